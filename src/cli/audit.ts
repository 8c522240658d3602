/**
 * `guardia audit verify`: walks the hash-chained audit log and names every entry that was edited or whose
 * predecessor was deleted. Exit 0 when the chain is intact, 1 naming each problem entry.
 * (`guardia audit export` registers in this group too.)
 */
import type { Command } from 'commander';
import { registerAuditExportCommand } from './audit-export.js';
import { withServices, withStoreOptions, type StoreOptions } from './context.js';
import { printJson } from './output.js';

export function registerAuditCommands(program: Command): void {
  const audit =
    program.commands.find((c) => c.name() === 'audit') ??
    program.command('audit').description('the tamper-evident audit log: verify it, export a month');
  registerAuditExportCommand(audit);

  withStoreOptions(
    audit
      .command('verify')
      .description('check the audit log hash chain; exit 1 naming every edited or orphaned entry')
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & { json: boolean }) => {
    const result = await withServices(options, (s) => s.audit.verify());
    process.exitCode = result.ok ? 0 : 1;
    if (options.json) return printJson(result);
    if (result.ok) {
      process.stdout.write(`Audit log intact: ${result.checked} entries, head ${result.head}.\n`);
      return;
    }
    process.stdout.write(
      `Audit log BROKEN: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${result.checked} entries.\n`,
    );
    for (const p of result.problems) process.stdout.write(`  entry ${p.id}: ${p.problem}\n`);
  });
}

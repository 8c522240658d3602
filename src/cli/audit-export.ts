/**
 * `guardia audit export --month 2026-11 --out ops/audit [--screenshots] [--json]`: writes the month's audit
 * folder (README.md, attachments/, MANIFEST.sha256; see src/evidence/audit-export.ts) and prints its path.
 * Registered into the `audit` group by src/cli/audit.ts.
 */
import type { Command } from 'commander';
import { exportAuditMonth } from '../evidence/audit-export.js';
import { monthOf } from '../domain/evidence/periods.js';
import { withServices, withStoreOptions, type StoreOptions } from './context.js';
import { printJson } from './output.js';

export function registerAuditExportCommand(audit: Command): void {
  withStoreOptions(
    audit
      .command('export')
      .description('write ops/audit/YYYY-MM/README.md, attachments and MANIFEST.sha256 for a month')
      .option('--month <month>', 'the month, e.g. 2026-11 (default: the current month)')
      .option('--out <dir>', 'the folder that holds one folder per month', 'ops/audit')
      .option('--screenshots', 'also take screenshots of the console (needs the web console: not yet)', false)
      .option('--json', 'print as JSON', false),
  ).action(
    async (options: StoreOptions & { month?: string; out: string; screenshots: boolean; json: boolean }) => {
      await withServices(options, async (s) => {
        const month = options.month ?? monthOf(s.clock.now(), s.policy.calendar.timezone);
        const result = await exportAuditMonth(s, month, options.out);
        const note = options.screenshots
          ? 'screenshots need the web console, which does not exist yet (a later issue); none were taken'
          : undefined;
        if (options.json) return printJson({ ...result, ...(note ? { screenshots: note } : {}) });
        if (note) process.stderr.write(`guardia: note: ${note}\n`);
        process.stdout.write(`${result.dir}/README.md\n`);
        process.stderr.write(
          `Wrote ${result.files.length} file${result.files.length === 1 ? '' : 's'} and MANIFEST.sha256 in ${result.dir}\n`,
        );
      });
    },
  );
}

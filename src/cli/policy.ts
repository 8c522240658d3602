/**
 * `guardia init`, `guardia policy check` and `guardia policy render`: writing, validating and reading the policy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_POLICY_YAML } from '../domain/policy/default-policy.js';
import {
  DEFAULT_POLICY_PATH,
  findPolicyPath,
  formatProblems,
  parsePolicyText,
  readPolicySource,
} from '../domain/policy/load.js';
import { renderPolicyMarkdown } from '../domain/policy/render.js';
import { GuardiaError } from '../shared/errors.js';
import { printJson } from './output.js';

export function registerPolicyCommands(program: Command): void {
  program
    .command('init')
    .description('write the default policy (the SRE runbook as data) to guardia.yaml')
    .option('--path <file>', 'where to write the policy', DEFAULT_POLICY_PATH)
    .option('--force', 'overwrite the file if it already exists', false)
    .action((options: { path: string; force: boolean }) => {
      writeNewFile(options.path, DEFAULT_POLICY_YAML, options.force);
      const next = [
        `Wrote ${options.path}: the SRE Operations Runbook (Enterprise) as your policy.`,
        '',
        'Next steps:',
        `  1. Edit ${options.path}: people, roles, calendar (time zone, hours, holidays) and routes.`,
        `  2. guardia policy check ${options.path}`,
        `  3. guardia policy render ${options.path}    (the runbook as Markdown)`,
        '  4. Set the integration secrets before starting: GENERIC_TOKEN, PAGERDUTY_ROUTING_KEY.',
      ];
      process.stdout.write(next.join('\n') + '\n');
    });

  const policy = program.command('policy').description('validate and render the policy (guardia.yaml)');

  policy
    .command('check')
    .description(
      'validate a policy file and report every problem as FILE:LINE:COL ' +
        '(default: $GUARDIA_POLICY, else ./guardia.yaml, else the built-in policy)',
    )
    .argument('[file]', 'policy file')
    .option('--json', 'print the result as JSON', false)
    .action((file: string | undefined, options: { json: boolean }) => {
      const source = readPolicySource(findPolicyPath({ path: file }));
      const { policy: parsed, problems } = parsePolicyText(source.text, source.file);
      const valid = parsed !== undefined && problems.length === 0;
      if (options.json) printJson({ valid, file: source.file, problems });
      else if (!parsed || !valid) {
        process.stderr.write(formatProblems(problems) + '\n');
        process.stderr.write(`${source.file}: ${count(problems.length, 'problem', 'problems')}\n`);
      } else {
        const counts = [
          count(parsed.people.length, 'person', 'people'),
          count(parsed.roles.length, 'role', 'roles'),
          count(parsed.integrations.length, 'integration', 'integrations'),
          count(parsed.routes.length, 'route', 'routes'),
        ];
        process.stdout.write(`${source.file}: policy is valid (${counts.join(', ')})\n`);
      }
      process.exitCode = valid ? 0 : 1;
    });

  policy
    .command('render')
    .description('print the runbook as Markdown, generated from the policy')
    .argument(
      '[file]',
      'policy file (default: $GUARDIA_POLICY, else ./guardia.yaml, else the built-in policy)',
    )
    .option('--out <path>', 'write the Markdown to this file instead of stdout')
    .action((file: string | undefined, options: { out?: string }) => {
      const source = readPolicySource(findPolicyPath({ path: file }));
      const { policy: parsed, problems } = parsePolicyText(source.text, source.file);
      if (!parsed || problems.length > 0) {
        process.stderr.write(formatProblems(problems) + '\n');
        process.exitCode = 1;
        return;
      }
      const markdown = renderPolicyMarkdown(parsed);
      if (options.out) {
        mkdirSync(dirname(options.out), { recursive: true });
        writeFileSync(options.out, markdown);
        process.stdout.write(`Wrote ${options.out}\n`);
      } else process.stdout.write(markdown);
    });
}

/** Writes a new file; refuses (exit 2) to overwrite one unless forced. */
function writeNewFile(path: string, text: string, force: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, text, { flag: force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new GuardiaError('invalid_input', `${path} already exists; run with --force to overwrite it`);
    throw new GuardiaError('invalid_input', `cannot write ${path}: ${(err as Error).message}`);
  }
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

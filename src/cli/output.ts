/**
 * Presenting results and errors on the terminal: `--json` for scripts, plain text for people.
 * Errors are mapped to exit codes through GuardiaError's single table.
 */
import { GuardiaError } from '../shared/errors.js';

/** Prints a GuardiaError (or any error) to stderr and returns the exit code to use. */
export function reportCliError(err: unknown, json = process.argv.includes('--json')): number {
  if (err instanceof GuardiaError) {
    if (json) process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
    else {
      process.stderr.write(`guardia: ${err.message}\n`);
      const issues = (err.details as { issues?: { field: string; message: string }[] } | undefined)?.issues;
      if (issues && issues.length > 1)
        for (const i of issues) process.stderr.write(`  - ${i.field}: ${i.message}\n`);
    }
    return err.exitCode;
  }
  process.stderr.write(`guardia: ${err instanceof Error ? err.message : String(err)}\n`);
  return 2;
}

/** Writes a value as pretty JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

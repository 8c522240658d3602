#!/usr/bin/env node
/**
 * The `guardia` command. Each command group lives in its own file and registers itself here.
 * Exit codes (DESIGN.md §4): 0 ok, 1 a check failed or was refused, 2 usage error or cannot evaluate.
 */
import { Command, CommanderError } from 'commander';
import { registerIncidentCommands } from './incidents.js';
import { registerPolicyCommands } from './policy.js';
import { registerServeCommand } from './serve.js';
import { registerTokenCommands } from './tokens.js';
import { reportCliError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('guardia')
    .description(
      'Guardia runs your SRE runbook: alerts, incidents with SLA clocks, escalation, evidence, release gate.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServeCommand(program);
  registerPolicyCommands(program);
  registerIncidentCommands(program);
  registerTokenCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportCliError(err);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 2;
  },
);

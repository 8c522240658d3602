#!/usr/bin/env node
/**
 * The `guardia` command. Each command group lives in its own file and registers itself here.
 * Exit codes (DESIGN.md §4): 0 ok, 1 a check failed or was refused, 2 usage error or cannot evaluate.
 *
 * Groups are loaded on demand: `guardia gate --server …` in a CI job should not pay for loading the HTTP server
 * and database drivers it never uses. Only `--help` without a command loads every group.
 */
import { Command, CommanderError } from 'commander';
import { isEngineThread, runEngineThread } from '../engine/thread.js';
import { reportCliError } from './output.js';

type Registrar = (program: Command) => void;

/** Top-level command name → the module that registers it (a module may register several names). */
const GROUPS: Record<string, () => Promise<Registrar>> = {
  serve: async () => (await import('./serve.js')).registerServeCommand,
  init: async () => (await import('./policy.js')).registerPolicyCommands,
  policy: async () => (await import('./policy.js')).registerPolicyCommands,
  incidents: async () => (await import('./incidents.js')).registerIncidentCommands,
  tokens: async () => (await import('./tokens.js')).registerTokenCommands,
  oncall: async () => (await import('./oncall.js')).registerOnCallCommands,
  gate: async () => (await import('./gate.js')).registerGateCommands,
  audit: async () => (await import('./audit.js')).registerAuditCommands,
  evidence: async () => (await import('./evidence.js')).registerEvidenceCommands,
  review: async () => (await import('./evidence.js')).registerEvidenceCommands,
  diagnose: async () => (await import('./diagnose.js')).registerPlaybookCommands,
  verify: async () => (await import('./diagnose.js')).registerPlaybookCommands,
};

/** Builds the program with the groups `argv` needs (all of them when it names none we know). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('guardia')
    .description(
      'Guardia runs your SRE runbook: alerts, incidents with SLA clocks, escalation, evidence, release gate.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const first = argv.find((a) => !a.startsWith('-'));
  const wanted = first && first in GROUPS ? [GROUPS[first]!] : Object.values(GROUPS);
  const registered = new Set<Registrar>();
  for (const load of wanted) {
    const register = await load();
    if (!registered.has(register)) register(program);
    registered.add(register);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
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

// `guardia serve` runs its escalation engine on a second thread started from this same script (engine/thread.ts).
if (isEngineThread()) {
  void runEngineThread();
} else {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}

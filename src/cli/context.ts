/**
 * Opening Guardia from the command line: configuration, store and policy, the same services as the server.
 * Commands work directly on the store named by GUARDIA_DATABASE_URL (SQLite's WAL lets them run beside
 * a running server).
 */
import os from 'node:os';
import type { Command } from 'commander';
import { loadConfig, loadSecretKey, type Config } from '../config.js';
import { loadPolicy } from '../domain/policy/load.js';
import { createServices, type AppServices } from '../server/context.js';
import { systemClock } from '../shared/clock.js';
import { openStore } from '../store/db.js';

export interface StoreOptions {
  database?: string;
  policy?: string;
}

/** Adds the options every store-backed command accepts. */
export function withStoreOptions(command: Command): Command {
  return command
    .option('--database <url>', 'database URL (default: $GUARDIA_DATABASE_URL or sqlite:./data/guardia.db)')
    .option(
      '--policy <file>',
      'policy file (default: $GUARDIA_POLICY, ./guardia.yaml, or the built-in runbook)',
    );
}

/** Runs `fn` with live services and closes the store afterwards, whatever happens. */
export async function withServices<T>(
  options: StoreOptions,
  fn: (services: AppServices, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ databaseUrl: options.database, policy: options.policy });
  const policy = loadPolicy({ path: config.policyPath });
  const store = await openStore({ url: config.databaseUrl });
  try {
    const settings = { secretKey: loadSecretKey(config), publicUrl: config.publicUrl };
    return await fn(createServices(store, policy, systemClock, process.env, settings), config);
  } finally {
    await store.close();
  }
}

/** Who the CLI acts as on timelines: --as, else the operating-system user. */
export function cliActor(as?: string): string {
  return as ?? `cli:${process.env.USER ?? process.env.USERNAME ?? safeUsername()}`;
}

function safeUsername(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Controlling the local PostgreSQL service for the fault tests (the cluster the tests share, as .ci/run starts
 * it): restart it under load, and make sure it is running again afterwards. Needs root (pg_ctlcluster), as in CI.
 * On a shared development machine, point the chaos tests at a private cluster so other test runs are not
 * disturbed: `pg_createcluster 15 chaos -p 5439 -- --auth-host=trust`, then
 * GUARDIA_CHAOS_PG_CLUSTER=chaos GUARDIA_TEST_PG_URL=postgres://postgres@127.0.0.1:5439/postgres.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { PG_URL } from './harness.js';

const run = promisify(execFile);
const CLUSTER = process.env.GUARDIA_CHAOS_PG_CLUSTER || 'main';
const target = new URL(PG_URL);
const HOST = target.hostname || '127.0.0.1';
const PORT = target.port || '5432';

function clusterVersion(): string {
  const versions = fs.readdirSync('/etc/postgresql').sort();
  if (versions.length === 0) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  return versions[versions.length - 1]!;
}

export async function pgIsReady(): Promise<boolean> {
  try {
    await run('pg_isready', ['-h', HOST, '-p', PORT, '-q'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** `pg_ctlcluster <version> <cluster> <action>`; resolves with how long it took. */
export async function pgCtl(action: 'restart' | 'start' | 'stop'): Promise<number> {
  const started = Date.now();
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', clusterVersion(), CLUSTER, action], {
    timeout: 120_000,
  });
  return Date.now() - started;
}

/** Waits up to `ms` for pg_isready. */
export async function waitPgReady(ms = 60_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await pgIsReady()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Starts PostgreSQL if it does not answer, then waits for it: the state every other test expects. */
export async function ensurePostgresRunning(): Promise<void> {
  if (await pgIsReady()) return;
  try {
    await pgCtl('start');
  } catch (err) {
    // Already starting, or started by someone else meanwhile: the wait below decides.
    process.stderr.write(`pg_ctlcluster start: ${(err as Error).message}\n`);
  }
  if (!(await waitPgReady(60_000))) throw new Error('PostgreSQL did not come back up');
}

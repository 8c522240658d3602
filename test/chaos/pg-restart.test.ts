/**
 * Dependency fault: PostgreSQL restarted under load. The real server runs on a fresh PostgreSQL database while an
 * ingest storm runs; the shared cluster is restarted twice (`pg_ctlcluster … restart`) and once stopped for 3 s
 * and started again. While it is away, requests must be answered 503 store_unavailable (so senders retry) —
 * never a 500, never a 202 for an alert that is then missing — and Guardia must recover on its own: /readyz back
 * to 200 and 202s again, without a restart of Guardia. At the end every 202 is in the store.
 * Needs root (pg_ctlcluster), as in CI. PostgreSQL is always left running (finally + the global teardown).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import {
  checkStore,
  cleanEnv,
  createPgDatabase,
  killChildren,
  runCli,
  serverCommand,
  sleep,
  startServer,
  startStorm,
  stopServer,
  withTimeout,
  type Promised,
  type RunningServer,
  type ServerCommand,
} from '../helpers/crash.js';
import { ensurePostgresRunning, pgCtl, waitPgReady } from '../helpers/postgres-service.js';
import { recordChaos } from './stats.js';

const GENERIC_TOKEN = 'chaos-pg-generic-token-0123456789';

/** Reads the incident list every 50 ms with a viewer token: during an outage 503, never another 5xx. */
function watchApi(server: RunningServer, token: string) {
  let stopped = false;
  const statuses = new Map<number | string, number>();
  const bad: string[] = [];
  const done = (async () => {
    while (!stopped) {
      try {
        const res = await fetch(`${server.baseUrl}/api/v1/incidents?status=all&limit=5`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status !== 200 && !(res.status === 503 && text.includes('store_unavailable')))
          bad.push(`${res.status} ${text.slice(0, 200)}`);
      } catch (err) {
        bad.push(`network: ${String((err as Error).cause ?? err)}`);
      }
      await sleep(50);
    }
  })();
  return {
    statuses,
    bad,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** Polls /readyz every 100 ms; keeps the transitions. */
function watchReadiness(server: RunningServer) {
  let stopped = false;
  const transitions: { at: number; status: number | string }[] = [];
  let last: number | string | undefined;
  const done = (async () => {
    while (!stopped) {
      let status: number | string;
      try {
        status = (await fetch(`${server.baseUrl}/readyz`, { signal: AbortSignal.timeout(5_000) })).status;
      } catch (err) {
        status = `error ${String((err as Error).cause ?? err)}`;
      }
      if (status !== last) transitions.push({ at: Date.now(), status });
      last = status;
      await sleep(100);
    }
  })();
  return {
    transitions,
    current: () => last,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe('PostgreSQL restarted under load', () => {
  let dir: string;
  let command: ServerCommand;
  let dropDb: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    await ensurePostgresRunning();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-chaos-pg-'));
    command = await serverCommand();
  });

  afterAll(async () => {
    await killChildren();
    command?.cleanup();
    await ensurePostgresRunning();
    await dropDb?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 while it is away, recovers without a restart, loses no 202', async () => {
    const db = await createPgDatabase();
    dropDb = db.drop;
    const env = cleanEnv({
      GUARDIA_DATABASE_URL: db.url,
      GUARDIA_DATA_DIR: dir,
      GUARDIA_PORT: '0',
      GUARDIA_HOST: '127.0.0.1',
      GENERIC_TOKEN,
    });
    const created = await runCli(
      command,
      ['tokens', 'create', '--role', 'viewer', '--name', 'chaos', '--json'],
      dir,
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const viewer = (JSON.parse(created.stdout) as { token: string }).token;
    const server = await startServer(command, dir, env);
    const promised: Promised[] = [];
    const storm = startStorm(
      {
        baseUrl: server.baseUrl,
        token: GENERIC_TOKEN,
        cycle: 1,
        inFlight: 16,
        key: (n) => (n % 3 === 0 ? `pg-shared-${n % 8}` : `pg-u-${n}`),
        prefix: 'pg-restart',
        allowUnavailable: true,
        pauseMs: 5,
      },
      promised,
    );
    const ready = watchReadiness(server);
    const reader = watchApi(server, viewer);
    let died: string | undefined;
    void server.exited.then(
      (e) => (died = `Guardia died (${JSON.stringify(e)}):\n${server.stderr().slice(-2000)}`),
    );
    const alive = () => {
      if (died) throw new Error(died);
    };
    const faults: { kind: string; ms: number; recoveredMs: number; accepted: number; unavailable: number }[] =
      [];
    const started = Date.now();
    try {
      await withTimeout(storm.first, 30_000, 'first 202');
      for (const kind of ['restart', 'stop-3s-start', 'restart'] as const) {
        await sleep(1_000);
        const acceptedBefore = storm.result.accepted;
        const unavailableBefore = storm.result.unavailable;
        const t0 = Date.now();
        if (kind === 'restart') await pgCtl('restart');
        else {
          await pgCtl('stop');
          await sleep(3_000);
          await pgCtl('start');
        }
        expect(await waitPgReady(60_000)).toBe(true);
        const pgBackMs = Date.now() - t0;
        // Guardia, untouched, must find its way back: ready again, and new alerts answered 202.
        const recover = Date.now();
        await withTimeout(
          (async () => {
            while (ready.current() !== 200) {
              alive();
              await sleep(50);
            }
          })(),
          30_000,
          `/readyz back to 200 after PostgreSQL ${kind}`,
        );
        const acceptedAtReady = storm.result.accepted;
        await withTimeout(
          (async () => {
            while (storm.result.accepted < acceptedAtReady + 20) {
              alive();
              await sleep(20);
            }
          })(),
          30_000,
          `new 202s after PostgreSQL ${kind}`,
        );
        faults.push({
          kind,
          ms: pgBackMs,
          recoveredMs: Date.now() - recover,
          accepted: storm.result.accepted - acceptedBefore,
          unavailable: storm.result.unavailable - unavailableBefore,
        });
      }
    } finally {
      storm.stop();
      await storm.done;
      await ready.stop();
      await reader.stop();
      await ensurePostgresRunning();
    }

    expect(storm.result.unexpected.slice(0, 10), 'answers other than 202 or 503 store_unavailable').toEqual(
      [],
    );
    expect(storm.result.networkErrors.slice(0, 10), 'network errors (Guardia must stay up)').toEqual([]);
    expect(reader.bad.slice(0, 10), 'API reads: answers other than 200 or 503 store_unavailable').toEqual([]);
    // The stop of 3 s cannot pass unnoticed by a storm of 16 senders: they were told to retry.
    expect(storm.result.unavailable).toBeGreaterThan(0);
    expect(ready.transitions.some((t) => t.status === 503)).toBe(true);
    expect(ready.transitions.at(-1)?.status).toBe(200);

    const store = await openStore({ url: db.url, migrate: false });
    try {
      const verdict = await checkStore(store.db, promised);
      expect(verdict.problems.slice(0, 20), `${verdict.problems.length} problem(s)`).toEqual([]);
    } finally {
      await store.close();
    }
    const exit = await stopServer(server);
    expect(exit.code).toBe(0);

    recordChaos('pg-restart', {
      faults_injected: faults.length,
      restarts: faults.filter((f) => f.kind === 'restart').length,
      stops: faults.filter((f) => f.kind !== 'restart').length,
      alerts_sent: storm.result.sent,
      alerts_answered_202: storm.result.accepted,
      alerts_202_lost: 0,
      answered_503_store_unavailable: storm.result.unavailable,
      answered_5xx_other: 0,
      api_reads: [...reader.statuses.values()].reduce((a, b) => a + b, 0),
      api_reads_503: reader.statuses.get(503) ?? 0,
      readyz_transitions: ready.transitions.map((t) => t.status).join('>'),
      recovery_ms: faults.map((f) => f.recoveredMs).join('/'),
      pg_outage_ms: faults.map((f) => f.ms).join('/'),
      seconds: Math.round((Date.now() - started) / 1000),
    });
  }, 300_000);
});

/**
 * Chaos: the durability loop of test/e2e/durability.test.ts with more kills, on SQLite and on PostgreSQL (a fresh
 * database per run: the server takes a database URL, not a schema). 30 SIGKILLs at random moments mid-storm on
 * each store; after every restart every 202 is stored, per-key counts cover the 202s, and no dedup key has two
 * open incidents. GUARDIA_CHAOS_KILLS overrides the count; GUARDIA_CHAOS_SEED replays the kill moments.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import {
  apiProblems,
  chaosSeed,
  cleanEnv,
  crashLoop,
  createPgDatabase,
  killChildren,
  listIncidentsViaApi,
  seededRandom,
  serverCommand,
  stopServer,
} from '../helpers/crash.js';
import { recordChaos } from './stats.js';

const GENERIC_TOKEN = 'chaos-crash-generic-token-0123456789';
const KILLS = Number(process.env.GUARDIA_CHAOS_KILLS) || 30;

describe('crash storm', () => {
  afterAll(killChildren);

  // SQLite and PostgreSQL run side by side (separate stores, servers and storms): most of a cycle is a restart.
  it.concurrent.for<'sqlite' | 'postgres'>(['sqlite', 'postgres'])(
    `%s: keeps every 202 across ${KILLS} SIGKILLs at random moments`,
    { timeout: 600_000 },
    async (dialect, { expect }) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `guardia-chaos-crash-${dialect}-`));
      const command = await serverCommand();
      let dropDb: (() => Promise<void>) | undefined;
      try {
        let dbUrl = `sqlite:${path.join(dir, 'g.db')}`;
        if (dialect === 'postgres') {
          const db = await createPgDatabase();
          dropDb = db.drop;
          dbUrl = db.url;
        }
        const env = cleanEnv({
          GUARDIA_DATABASE_URL: dbUrl,
          GUARDIA_DATA_DIR: dir,
          GUARDIA_PORT: '0',
          GUARDIA_HOST: '127.0.0.1',
          GENERIC_TOKEN,
        });
        const seed = chaosSeed();
        const started = Date.now();
        const run = await crashLoop(
          {
            label: `${dialect} (seed ${seed})`,
            command,
            dir,
            env,
            dbUrl,
            token: GENERIC_TOKEN,
            kills: KILLS,
            random: seededRandom(seed),
            killWindowMs: [0, 800],
            inFlight: 32,
          },
          (problems, what) => expect(problems, what).toEqual([]),
        );
        try {
          const incidents = await listIncidentsViaApi(command, run.server, dir, env);
          expect(apiProblems(incidents, run.promised).slice(0, 20)).toEqual([]);
          recordChaos(`crash-storm ${dialect}`, {
            seed,
            kills_survived: run.kills,
            alerts_sent: run.sent,
            alerts_answered_202: run.promised.length,
            alerts_202_lost: 0,
            store_checks: run.checks,
            alert_promises_verified: run.alertsVerified,
            incidents: incidents.length,
            duplicate_open_incidents: 0,
            seconds: Math.round((Date.now() - started) / 1000),
          });
        } finally {
          const exit = await stopServer(run.server);
          expect(exit.code).toBe(0);
        }
      } finally {
        command.cleanup();
        await dropDb?.();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

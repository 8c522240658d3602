/**
 * End-to-end durability: "an alert answered 202 is on disk". The real server runs as a child process on a
 * temp-dir SQLite file; the test fires a storm of generic alerts (bounded concurrency, keep-alive), records every
 * request answered 202, and SIGKILLs the server at a random moment mid-storm — ten times on the same database.
 * After EVERY restart the store is checked: every promised alert is there (same row, same dedup key, same
 * incident), per-key alert counts cover the 202s, and no dedup key has two open incidents; after the last one the
 * API view is checked too and a SIGTERM must stop the server cleanly.
 * Requests that failed because the process died were never promised, so they may or may not be stored.
 * `npm run test:chaos` runs the same loop with 30 kills on SQLite and on PostgreSQL (test/chaos/).
 * The kill moments come from a seeded PRNG: the seed is printed, and GUARDIA_CHAOS_SEED=<seed> replays it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiProblems,
  chaosSeed,
  cleanEnv,
  crashLoop,
  killChildren,
  listIncidentsViaApi,
  seededRandom,
  serverCommand,
  stopServer,
  type ServerCommand,
} from '../helpers/crash.js';

const GENERIC_TOKEN = 'e2e-durability-generic-token-0123456789';
const KILLS = 10;
/** Each kill comes 0-600 ms after its cycle's first 202 (short cycles: most of a cycle is the restart). */
const KILL_WINDOW_MS: [number, number] = [0, 600];
const IN_FLIGHT = 32;

describe('durability: an alert answered 202 is on disk (survives kill -9)', () => {
  let dir: string;
  let dbUrl: string;
  let env: NodeJS.ProcessEnv;
  let command: ServerCommand;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-e2e-durability-'));
    dbUrl = `sqlite:${path.join(dir, 'g.db')}`;
    env = cleanEnv({
      GUARDIA_DATABASE_URL: dbUrl,
      GUARDIA_DATA_DIR: dir,
      GUARDIA_PORT: '0',
      GUARDIA_HOST: '127.0.0.1',
      GENERIC_TOKEN,
    });
    command = await serverCommand();
  });

  afterAll(async () => {
    await killChildren();
    command?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every 202 across ${KILLS} SIGKILLs at random moments mid-storm, one open incident per key`, async () => {
    const seed = chaosSeed();
    const started = Date.now();
    const run = await crashLoop(
      {
        label: `sqlite (seed ${seed})`,
        command,
        dir,
        env,
        dbUrl,
        token: GENERIC_TOKEN,
        kills: KILLS,
        random: seededRandom(seed),
        killWindowMs: KILL_WINDOW_MS,
        inFlight: IN_FLIGHT,
      },
      (problems, what) => expect(problems, what).toEqual([]),
    );
    try {
      expect(run.kills).toBe(KILLS);
      expect(run.checks).toBe(KILLS);
      expect(run.promised.length).toBeGreaterThan(KILLS);
      // The API over the same database agrees (with an admin token the CLI creates on it).
      const incidents = await listIncidentsViaApi(command, run.server, dir, env);
      expect(apiProblems(incidents, run.promised).slice(0, 20)).toEqual([]);
      console.log(
        `durability sqlite (seed ${seed}): ${run.kills} SIGKILLs survived, ${run.sent} alerts sent, ` +
          `${run.promised.length} answered 202 and all stored; ${run.checks} checks verified ` +
          `${run.alertsVerified} alert promises; ${incidents.length} incidents; kill delays ` +
          `[${run.killDelaysMs.join(', ')}] ms; restarts took [${run.startMs.join(', ')}] ms; ` +
          `${Math.round((Date.now() - started) / 1000)} s`,
      );
    } finally {
      const exit = await stopServer(run.server);
      expect(exit.code).toBe(0);
    }
  }, 180_000);
});

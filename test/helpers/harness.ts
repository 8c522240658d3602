/**
 * Test harness: a real store (SQLite in a temp dir, or a private schema on the local PostgreSQL), the default
 * policy, a fake clock, and the Fastify app — no mocks. `DIALECTS` lets a medium test run on every store.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { Policy } from '../../src/domain/policy/schema.js';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { createServices, type AppServices } from '../../src/server/context.js';
import { createLogger } from '../../src/server/logger.js';
import { FakeClock } from '../../src/shared/clock.js';
import { openStore, type Dialect, type Store } from '../../src/store/db.js';

export const PG_URL = process.env.GUARDIA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export const TEST_ENV = {
  GENERIC_TOKEN: 'generic-test-token-0123456789abcdef',
  PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789abcdef012345',
};

export interface TestStore {
  store: Store;
  url: string;
  pgSchema?: string;
  cleanup(): Promise<void>;
}

/** Opens a fresh, migrated, empty store of the given dialect. */
export async function openTestStore(dialect: Dialect): Promise<TestStore> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-test-'));
    const url = `sqlite:${path.join(dir, 'guardia.db')}`;
    const store = await openStore({ url });
    return {
      store,
      url,
      cleanup: async () => {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const pgSchema = `t_${crypto.randomBytes(6).toString('hex')}`;
  const store = await openStore({ url: PG_URL, pgSchema });
  return {
    store,
    url: PG_URL,
    pgSchema,
    cleanup: async () => {
      await store.close();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${pgSchema} cascade`);
      await client.end();
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  services: AppServices;
  clock: FakeClock;
  policy: Policy;
  tokens: { viewer: string; responder: string; admin: string };
  close(): Promise<void>;
}

/** A running app (inject-ready) over a fresh store, with one token per role. */
export async function startTestApp(
  dialect: Dialect,
  options: {
    policy?: Policy;
    now?: string;
    env?: NodeJS.ProcessEnv;
    /** Capture the app's JSON log lines (pino at `logLevel`, default trace) here; default: no logs. */
    logStream?: Writable;
    logLevel?: string;
    /** More buildApp options (rate limits). */
    appOptions?: Omit<AppOptions, 'logger'>;
  } = {},
): Promise<TestApp> {
  const testStore = await openTestStore(dialect);
  const policy = options.policy ?? loadPolicy({});
  const clock = new FakeClock(options.now ?? '2026-11-27T10:00:00.000Z');
  const services = createServices(testStore.store, policy, clock, options.env ?? TEST_ENV);
  const logger = options.logStream ? createLogger(options.logLevel ?? 'trace', options.logStream) : undefined;
  const app = await buildApp(services, { ...options.appOptions, ...(logger ? { logger } : {}) });
  const tokens = {
    viewer: (await services.tokens.create('viewer-bot', 'viewer')).token,
    responder: (await services.tokens.create('alice', 'responder')).token,
    admin: (await services.tokens.create('admin', 'admin')).token,
  };
  return {
    app,
    services,
    clock,
    policy,
    tokens,
    close: async () => {
      await app.close();
      await testStore.cleanup();
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

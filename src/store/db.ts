/**
 * Opening the store: Kysely over embedded SQLite (better-sqlite3, WAL) by default, or PostgreSQL for high
 * availability. Migrations run on open, so a fresh data directory or database is ready without a set-up step.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { GuardiaError } from '../shared/errors.js';
import type { Dialect } from './migrations/helpers.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { writeLockGuard, type WriteLockGuard, type WriteLockMemory } from './sqlite-write-lock.js';

export type { Dialect };

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, for messages (never includes a password). */
  description: string;
  /** PostgreSQL schema the store lives in, when not the default search path. */
  pgSchema?: string;
  /**
   * SQLite opened with a write lock only: waits, without blocking the event loop, until this thread may write, and
   * holds the lock until the returned function is called (see sqlite-write-lock.ts).
   */
  writeTurn?: () => Promise<() => void>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** `sqlite:PATH`, `sqlite::memory:` or `postgres://…`. */
  url: string;
  /** PostgreSQL only: the schema to use (created if missing); tests give each run its own. */
  pgSchema?: string;
  /** Run pending migrations (default true). */
  migrate?: boolean;
  /** SQLite only: the lock shared by this process's threads that write the same file (sqlite-write-lock.ts). */
  writeLock?: WriteLockMemory;
  /** With `writeLock`: this thread lets threads that do not yield write first (the engine thread yields). */
  yieldWrites?: boolean;
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/guardia.db';

/** Opens (and migrates) the store named by a database URL. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const store =
    options.url.startsWith('postgres://') || options.url.startsWith('postgresql://')
      ? await openPostgres(options.url, options.pgSchema)
      : openSqlite(
          options.url,
          options.writeLock && writeLockGuard(options.writeLock, { yields: options.yieldWrites }),
        );
  if (options.migrate !== false) {
    try {
      await migrate(store);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

function openSqlite(url: string, guard?: WriteLockGuard): Store {
  if (!url.startsWith('sqlite:')) {
    throw new GuardiaError(
      'invalid_input',
      `GUARDIA_DATABASE_URL must start with "sqlite:" or "postgres://", got "${redactUrl(url)}"`,
    );
  }
  const file = url.slice('sqlite:'.length);
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new BetterSqlite3(file);
  // WAL + synchronous=NORMAL: a commit is in the WAL file before we answer, so it survives a kill -9 of the
  // process (only an OS crash or power loss could drop the last transactions).
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(database, guard) }),
  });
  return {
    db,
    dialect: 'sqlite',
    description: `SQLite ${file}`,
    ...(guard ? { writeTurn: () => guard.turn() } : {}),
    close: () => db.destroy(),
  };
}

/**
 * Kysely prepares every query anew; on the ingest path the same dozen statements run thousands of times a
 * second, so prepared statements are kept by SQL text (better-sqlite3 statements are reusable once finished,
 * and Kysely runs each to completion synchronously).
 */
function withStatementCache(database: BetterSqlite3.Database, guard?: WriteLockGuard): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare: (sql: string) => {
      let statement = cache.get(sql);
      if (!statement) {
        statement = guard ? guard.wrap(sql, database.prepare(guard.sqlFor(sql))) : database.prepare(sql);
        // Queries built with variable IN-lists produce many texts; keep the cache bounded.
        if (cache.size >= 1_000) cache.clear();
        cache.set(sql, statement);
      }
      return statement as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}

async function openPostgres(url: string, schema?: string): Promise<Store> {
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its server must not crash the process; the next query reports the failure.
  pool.on('error', () => undefined);
  // Nor may a checked-out one (a PostgreSQL restart between the statements of a transaction): pg emits 'error' on
  // the client, which has no listener while it is out of the pool. The query in progress, or the next one, fails
  // instead, and the pool discards the broken client when it is released.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    description: `PostgreSQL ${redactUrl(url)}${schema ? ` (schema ${schema})` : ''}`,
    ...(schema ? { pgSchema: schema } : {}),
    close: () => db.destroy(),
  };
}

async function migrate(store: Store): Promise<void> {
  // Naming the schema matters: Kysely looks for its migration tables by name, and would otherwise find another
  // schema's tables on the same server.
  const migrator = new Migrator({
    db: store.db,
    provider: migrationProvider(store.dialect),
    ...(store.pgSchema ? { migrationTableSchema: store.pgSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new GuardiaError(
      'store_unavailable',
      `migration ${failed} failed on ${store.description}: ${String(error)}`,
    );
  }
}

/** A database URL with any password replaced, safe to print. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** True for a unique-constraint violation on SQLite or PostgreSQL. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | undefined;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

const STORE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08001',
  '08003',
  'SQLITE_BUSY',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
]);

/** node-postgres reports a connection lost under a query (a PostgreSQL restart) without a code. */
const PG_CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

/**
 * True when an error means the store cannot be reached or written right now (a restart, a full disk, a lock held
 * too long) — worth a retry later — as opposed to a statement the store refused, which a retry would repeat.
 */
export function isStoreOutage(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.code) return STORE_DOWN_CODES.has(e.code);
  return PG_CONNECTION_LOST.test(e.message ?? '');
}

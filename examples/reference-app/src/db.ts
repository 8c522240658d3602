/**
 * MariaDB/MySQL: the pool, numbered SQL migrations recorded in `schema_migrations`, the index fault, and the seed.
 * Several instances may start at once against one database: migrating and seeding run under a named lock
 * (`GET_LOCK`), and both are idempotent, so a restart or a second instance changes nothing.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql, { type Pool, type RowDataPacket, type Connection } from 'mysql2/promise';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { hashPassword } from './passwords.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Seed sizes: tenant 1 has enough rows that a full scan shows in EXPLAIN (over the runbook's 1,000 rows). */
export const SEED_SIZES: Record<number, { leads: number; threads: number; messages: number }> = {
  1: { leads: 5_000, threads: 500, messages: 5_000 },
  2: { leads: 1_000, threads: 100, messages: 1_000 },
  3: { leads: 1_000, threads: 100, messages: 1_000 },
};

export const SEED_TENANTS = [
  { id: 1, name: 'Acme Active', status: 'active' },
  { id: 2, name: 'Bolt Suspended', status: 'suspended' },
  { id: 3, name: 'Crux Billing Locked', status: 'billing_locked' },
] as const;

export function seedEmail(tenantId: number): string {
  return `owner@tenant${tenantId}.example`;
}

interface DatabaseUrl {
  connection: mysql.ConnectionOptions;
  database: string;
}

export function parseDatabaseUrl(url: string): DatabaseUrl {
  const u = new URL(url);
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:')
    throw new Error('DATABASE_URL must be mysql://user:pass@host:port/db');
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database))
    throw new Error('DATABASE_URL must name a database (letters, digits, underscore)');
  return {
    database,
    connection: {
      host: u.hostname || '127.0.0.1',
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password),
      timezone: 'Z',
    },
  };
}

export function createPool(url: string): Pool {
  const { connection, database } = parseDatabaseUrl(url);
  return mysql.createPool({ ...connection, database, connectionLimit: 10, enableKeepAlive: true });
}

interface Migration {
  version: string;
  name: string;
  file: string;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[A-Za-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((file) => ({
    version: file.slice(0, 4),
    name: file.slice(5, -4),
    file: path.join(dir, file),
  }));
}

/**
 * Creates the database if missing, applies every migration not yet recorded (except the FAULT_SKIP_MIGRATIONS
 * ones), drops the FAULT_DROP_INDEX indexes, and seeds — all under one named lock.
 */
export async function prepareDatabase(config: Config, log: Logger): Promise<void> {
  const { connection, database } = parseDatabaseUrl(config.databaseUrl);
  const conn = await mysql.createConnection({ ...connection, multipleStatements: true });
  try {
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    await conn.query(`USE \`${database}\``);
    const lock = `refapp_migrate_${database}`.slice(0, 64);
    const [[got]] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 60) AS ok', [lock]);
    if (!got || Number(got.ok) !== 1) throw new Error('could not take the migration lock within 60 s');
    try {
      await migrate(conn, config, log);
      await dropIndexes(conn, config, log);
      if (config.seed) await seed(conn, config, log);
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lock]);
    }
  } finally {
    await conn.end();
  }
}

async function migrate(conn: Connection, config: Config, log: Logger): Promise<void> {
  await conn.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version VARCHAR(32) NOT NULL PRIMARY KEY,
       applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
     ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`,
  );
  const [rows] = await conn.query<RowDataPacket[]>('SELECT version FROM schema_migrations');
  const applied = new Set(rows.map((r) => String(r.version)));
  for (const m of await listMigrations()) {
    if (applied.has(m.version)) continue;
    if (config.faults.skipMigrations.includes(m.version)) {
      log.warn({ version: m.version, migration: m.name }, 'migration skipped (FAULT_SKIP_MIGRATIONS)');
      continue;
    }
    const sql = await readFile(m.file, 'utf8');
    await conn.query(sql);
    await conn.query('INSERT INTO schema_migrations (version) VALUES (?)', [m.version]);
    log.info({ version: m.version, migration: m.name }, 'migration applied');
  }
}

async function dropIndexes(conn: Connection, config: Config, log: Logger): Promise<void> {
  for (const { table, index } of config.faults.dropIndexes) {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT 1 FROM information_schema.statistics
        WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1`,
      [table, index],
    );
    if (rows.length === 0) continue;
    await conn.query(`DROP INDEX \`${index}\` ON \`${table}\``);
    log.warn({ table, index }, 'index dropped (FAULT_DROP_INDEX)');
  }
}

const FIRST = [
  'Ana',
  'Luis',
  'Marta',
  'Jorge',
  'Lucía',
  'Pablo',
  'Sofía',
  'Diego',
  'Elena',
  'Iván',
  'Carmen',
  'Raúl',
];
const LAST = ['García', 'López', 'Martín', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz', 'Díaz', 'Moreno', 'Álvarez'];
const LINES = [
  'Hola, ¿siguen disponibles?',
  'Le envío la propuesta hoy.',
  '¿Podemos hablar mañana a las 10?',
  'Gracias, quedo atento.',
  'Necesito la factura de marzo.',
  'Perfecto, lo reviso con mi equipo.',
];

/** `ELT(index, 'a', 'b', …)` over a fixed word list (escaped). */
function elt(index: string, words: readonly string[]): string {
  return `ELT(${index}, ${words.map((w) => mysql.escape(w)).join(', ')})`;
}

/** The integers 0..9,999 for the seed's INSERT … SELECTs: rows are generated by the server (fast: no 1 MB INSERT
 *  to parse) with plain SQL that MariaDB and MySQL 8 both run (no recursion limit to raise). */
const SEQ_SIZE = 10_000;
const DIGITS = `(SELECT 0 AS d ${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `UNION ALL SELECT ${d}`).join(' ')})`;
const SEQ = 'seed_seq s';

async function createSeq(conn: Connection): Promise<void> {
  await conn.query('DROP TEMPORARY TABLE IF EXISTS seed_seq');
  await conn.query('CREATE TEMPORARY TABLE seed_seq (n INT NOT NULL PRIMARY KEY) ENGINE = MEMORY');
  await conn.query(
    `INSERT INTO seed_seq (n) SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d
       FROM ${DIGITS} a CROSS JOIN ${DIGITS} b CROSS JOIN ${DIGITS} c CROSS JOIN ${DIGITS} e`,
  );
}

/** A tenant's rows numbered 0.. in id order, as a derived table `alias(id, k)`. */
function numbered(table: 'leads' | 'chat_threads', alias: string): string {
  return `(SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM ${table} WHERE tenant_id = ?) ${alias}`;
}

async function seed(conn: Connection, config: Config, log: Logger): Promise<void> {
  const [[row]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM tenants');
  if (row && Number(row.n) > 0) return;
  const started = Date.now();
  const hashes = await Promise.all(SEED_TENANTS.map(() => hashPassword(config.seedPassword)));
  for (const size of Object.values(SEED_SIZES))
    if (Math.max(size.leads, size.threads, size.messages) > SEQ_SIZE)
      throw new Error('seed sizes exceed SEQ_SIZE');
  await createSeq(conn);
  await conn.beginTransaction();
  try {
    await conn.query('INSERT INTO tenants (id, name, status) VALUES ?', [
      SEED_TENANTS.map((t) => [t.id, t.name, t.status]),
    ]);
    await conn.query('INSERT INTO users (tenant_id, email, password_hash, name, role) VALUES ?', [
      SEED_TENANTS.map((t, i) => [t.id, seedEmail(t.id), hashes[i], `Owner of ${t.name}`, 'owner']),
    ]);
    for (const t of SEED_TENANTS) {
      const size = SEED_SIZES[t.id];
      if (!size) continue;
      await conn.query(
        `INSERT INTO leads (tenant_id, name, email, phone, status, source, created_at)
         SELECT ?, CONCAT(${elt('1 + s.n % 12', FIRST)}, ' ', ${elt('1 + (s.n DIV 12) % 10', LAST)}),
                CONCAT('lead', n + 1, '@tenant', ?, '.example'),
                CONCAT('+34 6', LPAD((n * 7919 + ?) % 100000000, 8, '0')),
                ${elt('1 + (n * 31) % 5', ['new', 'contacted', 'qualified', 'lost', 'won'])},
                ${elt('1 + (n * 17) % 4', ['import', 'web', 'referral', 'ads'])},
                NOW(3) - INTERVAL ((n * 104729) % 7776000) SECOND
           FROM ${SEQ} WHERE s.n < ?`,
        [t.id, t.id, t.id, size.leads],
      );
      await conn.query(
        `INSERT INTO chat_threads (tenant_id, lead_id, subject, created_at, updated_at)
         SELECT ?, l.id, CONCAT('Conversación ', s.n + 1),
                NOW(3) - INTERVAL ((s.n * 7919) % 2592000) SECOND, NOW(3) - INTERVAL ((s.n * 7919) % 86400) SECOND
           FROM ${SEQ} JOIN ${numbered('leads', 'l')} ON l.k = s.n
          WHERE s.n < ?`,
        [t.id, t.id, size.threads],
      );
      await conn.query(
        `INSERT INTO chat_messages (tenant_id, thread_id, sender, body, created_at)
         SELECT ?, th.id, IF(s.n % 2 = 0, 'lead', 'agent'), ${elt('1 + (s.n * 13) % 6', LINES)},
                NOW(3) - INTERVAL ((s.n * 15485863) % 2592000) SECOND
           FROM ${SEQ} JOIN ${numbered('chat_threads', 'th')} ON th.k = s.n % ?
          WHERE s.n < ?`,
        [t.id, t.id, size.threads, size.messages],
      );
    }
    await conn.commit();
  } catch (err) {
    await conn.rollback();
    throw err;
  }
  await conn.query('DROP TEMPORARY TABLE IF EXISTS seed_seq');
  // Fresh statistics, so EXPLAIN shows the real plans right away.
  await conn.query('ANALYZE TABLE users, leads, chat_threads, chat_messages, campaigns, campaign_sends');
  log.info({ ms: Date.now() - started }, 'database seeded');
}

/**
 * The MySQL/MariaDB probe of the playbooks: one short-lived connection per check (connect timeout, per-query
 * timeout, always closed — even when the check's signal aborts), the server's flavour and version from
 * `SELECT VERSION()`, and a display form of the DSN that never carries its password.
 */
import mysql from 'mysql2/promise';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { redactText } from '../redact.js';

export type MysqlFlavour = 'mysql' | 'mariadb';

/** A parsed `mysql://user:pass@host:port/db` DSN. `display` is what findings may show (no password). */
export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  database?: string;
  ssl: boolean;
  display: string;
}

export class MysqlDsnError extends Error {}

/** Parses a DSN. The error message never repeats the DSN (it may carry a password). */
export function parseMysqlDsn(dsn: string): MysqlTarget {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new MysqlDsnError('the MySQL DSN is not a URL (expected mysql://user:pass@host:port/db)');
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:')
    throw new MysqlDsnError(`the MySQL DSN must start with mysql:// (got ${url.protocol}//)`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = url.port ? Number(url.port) : 3306;
  const user = decodeURIComponent(url.username || 'root');
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined;
  const sslParam = url.searchParams.get('ssl') ?? url.searchParams.get('sslmode') ?? '';
  const ssl = ['true', '1', 'required', 'require', 'verify_identity', 'verify-full'].includes(
    sslParam.toLowerCase(),
  );
  const display = `${url.protocol}//${encodeURIComponent(user)}@${url.host || host}${database ? `/${database}` : ''}`;
  return { host, port, user, password, database, ssl, display };
}

/** The DSN as findings may show it: user, host, port and database; `<unparseable DSN>` when it is not a URL. */
export function displayMysqlDsn(dsn: string): string {
  try {
    return parseMysqlDsn(dsn).display;
  } catch {
    return '<unparseable DSN>';
  }
}

/** The password inside a DSN, for the run's secret list (undefined when none or unparseable). */
export function mysqlDsnPassword(dsn: string): string | undefined {
  try {
    return parseMysqlDsn(dsn).password;
  } catch {
    return undefined;
  }
}

export function flavourOf(version: string): MysqlFlavour {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}

/** An open connection with what every check needs to know about the server. */
export interface MysqlSession {
  flavour: MysqlFlavour;
  /** `SELECT VERSION()`, e.g. `10.11.6-MariaDB-0+deb12u1` or `8.0.36`. */
  version: string;
  /** The DSN's database (the app's schema), if any. */
  database?: string;
  /** The DSN's display form. */
  target: string;
  /** Runs one statement (client-side `?` placeholders) with the per-query timeout; returns the rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface MysqlProbeOptions {
  /** Connect timeout in ms (default 5 s). */
  connectTimeoutMs?: number;
  /** Per-statement timeout in ms (default 10 s). */
  queryTimeoutMs?: number;
  /** Aborts the probe: the connection is destroyed. */
  signal?: AbortSignal;
  /** Secrets to scrub from driver error messages (the DSN password is always scrubbed). */
  secrets?: readonly string[];
}

/** The outcome of a probe: the callback's value, or why the server could not be reached (phase `connect`) or
 *  why the callback failed (phase `query`). Messages are redacted. */
export type ProbeOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; phase: 'connect' | 'query'; target: string; message: string; code?: string };

/** Opens one connection to `dsn`, runs `fn`, and always closes the connection. */
export async function withMysql<T>(
  dsn: string,
  fn: (session: MysqlSession) => Promise<T>,
  options: MysqlProbeOptions = {},
): Promise<ProbeOutcome<T>> {
  let target: MysqlTarget;
  try {
    target = parseMysqlDsn(dsn);
  } catch (err) {
    return { ok: false, phase: 'connect', target: '<unparseable DSN>', message: (err as Error).message };
  }
  const secrets = [...(options.secrets ?? []), ...(target.password ? [target.password, dsn] : [dsn])];
  const scrub = (err: unknown) => {
    const e = err as { message?: string; code?: string };
    return redactText(String(e?.message ?? err), secrets);
  };
  const queryTimeout = options.queryTimeoutMs ?? 10_000;
  let conn: Connection | undefined;
  const onAbort = () => conn?.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      if (options.signal?.aborted) throw new Error('aborted before connecting');
      conn = await mysql.createConnection({
        host: target.host,
        port: target.port,
        user: target.user,
        password: target.password,
        database: target.database,
        connectTimeout: options.connectTimeoutMs ?? 5_000,
        ssl: target.ssl ? { rejectUnauthorized: true } : undefined,
        dateStrings: true,
        supportBigNumbers: true,
        multipleStatements: false,
      });
      // The connection's own errors (a server gone away between statements) arrive as events.
      conn.on('error', () => {});
    } catch (err) {
      return {
        ok: false,
        phase: 'connect',
        target: target.display,
        message: scrub(err),
        code: (err as { code?: string }).code,
      };
    }
    const c = conn;
    const query = async <R>(sql: string, params?: unknown[]): Promise<R[]> => {
      const [rows] = await c.query<RowDataPacket[]>({ sql, timeout: queryTimeout }, params);
      return rows as unknown as R[];
    };
    try {
      const [row] = await query<{ v: string }>('SELECT VERSION() AS v');
      const version = String(row?.v ?? '');
      const value = await fn({
        flavour: flavourOf(version),
        version,
        database: target.database,
        target: target.display,
        query,
      });
      return { ok: true, value };
    } catch (err) {
      return {
        ok: false,
        phase: 'query',
        target: target.display,
        message: scrub(err),
        code: (err as { code?: string }).code,
      };
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (conn) await closeQuietly(conn);
  }
}

async function closeQuietly(conn: Connection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      conn.end(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1_000);
      }),
    ]);
  } catch {
    // already closed or broken: destroy below
  } finally {
    clearTimeout(timer);
    conn.destroy();
  }
}

/** Quotes an identifier (table, column) with backticks; rejects anything but plain names so configured names
 *  cannot smuggle SQL. */
export function quoteIdent(name: string): string {
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(name))
    throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/**
 * The reference app's configuration, read once from the environment (README "Environment" and "Fault switches").
 * Everything the playbooks diagnose is a plain env variable here, the way the runbook's app is configured.
 */
import { hostname } from 'node:os';

export type SameSite = 'lax' | 'strict' | 'none';

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  /** null: hostname:port, filled in once the port is known. */
  instanceId: string | null;
  nodeEnv: string;
  jwtSecret: string;
  cookieSecret: string;
  cookieSameSite: SameSite;
  cookieSecure: boolean;
  /** fastify's `trustProxy`: false, true (`1`/`true`: trust the proxy in front) or an address/CIDR list. */
  trustProxy: boolean | string;
  clientUrl: string | null;
  logFile: string | null;
  seed: boolean;
  seedPassword: string;
  faults: {
    corsAnyOrigin: boolean;
    skipMigrations: string[];
    dropIndexes: { table: string; index: string }[];
    throwingProcedure: boolean;
    stalledQueue: boolean;
  };
}

export const DEFAULT_SEED_PASSWORD = 'correct horse battery staple';

const IDENT = /^[A-Za-z0-9_]{1,64}$/;

function flag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

function trustProxy(value: string | undefined): Config['trustProxy'] {
  const v = (value ?? '').trim();
  if (v === '' || v === '0' || v.toLowerCase() === 'false') return false;
  // A hop count (express's `trust proxy 1`) means "the proxy in front": fastify's numeric form trusts no peer.
  if (v.toLowerCase() === 'true' || /^\d+$/.test(v)) return true;
  return v; // addresses/CIDRs, as fastify accepts them
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const sameSite = (env.COOKIE_SAMESITE ?? 'lax').trim().toLowerCase();
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none')
    throw new Error(
      `COOKIE_SAMESITE must be lax, strict or none (got ${JSON.stringify(env.COOKIE_SAMESITE)})`,
    );
  const port = Number(env.PORT ?? '3000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('PORT must be a port number');
  const dropIndexes = list(env.FAULT_DROP_INDEX).map((spec) => {
    const [table, index, ...rest] = spec.split('.');
    if (!table || !index || rest.length > 0 || !IDENT.test(table) || !IDENT.test(index))
      throw new Error(`FAULT_DROP_INDEX entries are table.index (got ${JSON.stringify(spec)})`);
    return { table, index };
  });
  return {
    host: env.HOST || '127.0.0.1',
    port,
    databaseUrl: required(env, 'DATABASE_URL'),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379/0',
    queuePrefix: env.QUEUE_PREFIX || 'bull',
    instanceId: env.INSTANCE_ID || null,
    nodeEnv,
    jwtSecret: required(env, 'JWT_SECRET'),
    cookieSecret: required(env, 'COOKIE_SECRET'),
    cookieSameSite: sameSite,
    cookieSecure: env.COOKIE_SECURE === undefined ? nodeEnv === 'production' : flag(env.COOKIE_SECURE),
    trustProxy: trustProxy(env.TRUST_PROXY),
    clientUrl: env.CLIENT_URL ? env.CLIENT_URL.replace(/\/+$/, '') : null,
    logFile: env.LOG_FILE || null,
    seed: env.SEED === undefined ? true : flag(env.SEED),
    seedPassword: env.SEED_PASSWORD || DEFAULT_SEED_PASSWORD,
    faults: {
      corsAnyOrigin: flag(env.FAULT_CORS_ANY_ORIGIN),
      skipMigrations: list(env.FAULT_SKIP_MIGRATIONS),
      dropIndexes,
      throwingProcedure: flag(env.FAULT_THROWING_PROCEDURE),
      stalledQueue: flag(env.FAULT_STALLED_QUEUE),
    },
  };
}

export function defaultInstanceId(port: number): string {
  return `${hostname()}:${port}`;
}

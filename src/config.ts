/**
 * Runtime configuration from environment variables (flags override them in the CLI). Everything has a default,
 * so `npm start` works with no configuration at all (DESIGN.md §4).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DATABASE_URL } from './store/db.js';
import { GuardiaError } from './shared/errors.js';

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  /** Path to guardia.yaml, or undefined for the built-in default policy (the seed runbook). */
  policyPath: string | undefined;
  dataDir: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  logLevel: string;
  /** How people reach this Guardia (links in messages): GUARDIA_PUBLIC_URL, else the listen address. */
  publicUrl: string;
  rateLimits: RateLimits;
}

/** Per client address, per minute; 0 turns a limit off. */
export interface RateLimits {
  /** Requests to the inbound doors: /hooks/*, /v2/enqueue, /ack/* (GUARDIA_RATE_LIMIT_HOOKS). */
  hooksPerMinute: number;
  /** Failed API authentications (401) before the address gets 429 on /api (GUARDIA_RATE_LIMIT_AUTH_FAILURES). */
  authFailuresPerMinute: number;
}

/** Generous enough for Alertmanager and Grafana bursts from one sender; benchmarks set 0. */
export const DEFAULT_RATE_LIMITS: RateLimits = { hooksPerMinute: 600_000, authFailuresPerMinute: 30 };

function perMinute(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new GuardiaError(
      'invalid_input',
      `${name} must be a whole number of requests per minute (0 turns the limit off), got "${text}"`,
    );
  return value;
}

export interface ConfigOverrides {
  host?: string;
  port?: string | number;
  databaseUrl?: string;
  policy?: string;
}

/** Resolves configuration from overrides, then GUARDIA_* variables, then defaults. */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const portText = String(overrides.port ?? env.GUARDIA_PORT ?? '8080');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GuardiaError('invalid_input', `GUARDIA_PORT must be a port number 0-65535, got "${portText}"`);
  }
  const explicitPolicy = overrides.policy ?? env.GUARDIA_POLICY;
  const policyPath = explicitPolicy ?? (fs.existsSync('guardia.yaml') ? 'guardia.yaml' : undefined);
  const host = overrides.host ?? env.GUARDIA_HOST ?? '127.0.0.1';
  return {
    host,
    port,
    publicUrl: env.GUARDIA_PUBLIC_URL ?? `http://${host}:${port}`,
    databaseUrl: overrides.databaseUrl ?? env.GUARDIA_DATABASE_URL ?? DEFAULT_DATABASE_URL,
    policyPath,
    dataDir: env.GUARDIA_DATA_DIR ?? './data',
    bodyLimit: 1024 * 1024,
    logLevel: env.GUARDIA_LOG_LEVEL ?? 'info',
    rateLimits: {
      hooksPerMinute: perMinute(env, 'GUARDIA_RATE_LIMIT_HOOKS', DEFAULT_RATE_LIMITS.hooksPerMinute),
      authFailuresPerMinute: perMinute(
        env,
        'GUARDIA_RATE_LIMIT_AUTH_FAILURES',
        DEFAULT_RATE_LIMITS.authFailuresPerMinute,
      ),
    },
  };
}

/**
 * The server's secret key (signs links and cookies in later capabilities): GUARDIA_SECRET_KEY, or a random key
 * generated once and kept in the data directory with owner-only permissions.
 */
export function loadSecretKey(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  if (env.GUARDIA_SECRET_KEY) return env.GUARDIA_SECRET_KEY;
  const file = path.join(config.dataDir, 'secret.key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const key = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, key + '\n', { mode: 0o600 });
  return key;
}

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

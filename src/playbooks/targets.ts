/**
 * Where the system under diagnosis is: the policy's `playbooks` section, overridden by command-line flags, with
 * `${ENV}` references resolved now. Also the list of every secret value this run knows, so the runner can scrub
 * findings of them: the login password, the Sentry token, passwords inside DSNs and URLs, and every value of the
 * app's environment file whose key looks secret (…SECRET…, …KEY…, …TOKEN…, …PASSWORD…).
 *
 * An unset variable is not an error: the target is left out and recorded in `targets.unresolved`, so the checks
 * that need it skip and name the variable (`missingTarget`).
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { ConnectionRef, PlaybooksPolicy } from '../domain/policy/playbook-schema.js';
import type { Policy } from '../domain/policy/schema.js';
import { GuardiaError, invalidInput, type FieldIssue } from '../shared/errors.js';
import type { PlaybookTargets, TargetKey } from './check.js';

/** Flags that override the policy's targets (all optional). */
export interface TargetFlags {
  appUrl?: string;
  proxyUrl?: string;
  /** Replaces the policy's list when non-empty. */
  instances?: string[];
  envFile?: string;
  mysqlDsn?: string;
  redisUrl?: string;
  logFile?: string;
  sentryUrl?: string;
  sentryOrg?: string;
  /** `--window`, in ms. */
  errorsWindowMs?: number;
}

export interface ResolvedTargets {
  targets: PlaybookTargets;
  /** Every secret value known to this run (for CheckContext.secrets). */
  secrets: string[];
}

/** Keys of an environment file whose values are secrets. */
export const SECRET_KEY = /SECRET|KEY|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE/i;

/** The Sentry token's variable when neither the policy nor a flag names one (sentry-cli's own). */
const SENTRY_TOKEN_ENV = 'SENTRY_AUTH_TOKEN';

export function resolveTargets(
  policy: Pick<Policy, 'playbooks'>,
  flags: TargetFlags = {},
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ResolvedTargets {
  checkFlags(flags);
  const p: PlaybooksPolicy = policy.playbooks;
  const t = p.targets;
  const secrets: string[] = [];
  const unresolved: Partial<Record<TargetKey, string>> = {};
  const fromEnv = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const connection = (key: TargetKey, flag: string | undefined, ref: ConnectionRef | undefined) => {
    if (flag !== undefined) return flag;
    if (!ref) return undefined;
    if ('value' in ref) return ref.value;
    const value = fromEnv(ref.env);
    if (value === undefined) unresolved[key] = ref.env;
    return value;
  };

  const mysqlDsn = connection('mysqlDsn', flags.mysqlDsn, t.mysql_dsn);
  const redisUrl = connection('redisUrl', flags.redisUrl, t.redis_url);
  for (const url of [mysqlDsn, redisUrl]) if (url) secrets.push(...urlSecrets(url));

  let login: PlaybookTargets['login'];
  if (t.login) {
    const password = fromEnv(t.login.password.env);
    if (password === undefined) unresolved.login = t.login.password.env;
    else {
      secrets.push(password);
      login = {
        email: t.login.email,
        password,
        ...(t.login.tenant_id === undefined ? {} : { tenantId: String(t.login.tenant_id) }),
      };
    }
  }

  let sentry: PlaybookTargets['sentry'];
  const sentryOrg = flags.sentryOrg ?? t.sentry?.org;
  const sentryUrl = flags.sentryUrl ?? t.sentry?.api_url ?? (sentryOrg ? 'https://sentry.io' : undefined);
  if (sentryOrg && sentryUrl) {
    const tokenEnv = t.sentry?.token.env ?? SENTRY_TOKEN_ENV;
    const token = fromEnv(tokenEnv);
    if (token === undefined) unresolved.sentry = tokenEnv;
    else {
      secrets.push(token);
      sentry = { apiUrl: sentryUrl, org: sentryOrg, token };
    }
  }

  const envFile = flags.envFile ?? t.env_file;
  if (envFile) secrets.push(...envFileSecrets(envFile, readFile));

  const instances = flags.instances && flags.instances.length > 0 ? flags.instances : t.instances;
  const appUrl = flags.appUrl ?? t.app_url;
  const proxyUrl = flags.proxyUrl ?? t.proxy_url;
  const logFile = flags.logFile ?? t.log_file;
  const targets: PlaybookTargets = {
    ...(appUrl ? { appUrl } : {}),
    ...(proxyUrl ? { proxyUrl } : {}),
    ...(instances.length > 0 ? { instances } : {}),
    ...(envFile ? { envFile } : {}),
    ...(login ? { login } : {}),
    ...(mysqlDsn ? { mysqlDsn } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    ...(logFile ? { logFile } : {}),
    ...(sentry ? { sentry } : {}),
    tenantColumn: p.tenant_column,
    tenantQueries: p.tenant_queries.map((q) => ({ name: q.name, sql: q.sql })),
    indexMigrations: [...p.index_migrations],
    migrationsTable: { ...p.migrations_table },
    queues: [...p.queues],
    queuePrefix: p.queue_prefix,
    thresholds: {
      connectionsWarn: p.thresholds.connections_warn,
      connectionsFail: p.thresholds.connections_fail,
      redisPingWarnMs: p.thresholds.redis_ping_warn_ms,
      redisPingFailMs: p.thresholds.redis_ping_fail_ms,
      fullScanRows: p.thresholds.full_scan_rows,
      queueWaitingWarn: p.thresholds.queue_waiting_warn,
    },
    errorsWindowMs: flags.errorsWindowMs ?? p.errors_window.ms,
    ...(Object.keys(unresolved).length > 0 ? { unresolved } : {}),
  };
  return { targets, secrets: [...new Set(secrets.filter((s) => s.length > 0))] };
}

/** The password of a URL (raw and decoded); nothing for a URL without one or text that is not a URL. */
export function urlSecrets(text: string): string[] {
  if (!URL.canParse(text)) return [];
  const { password } = new URL(text);
  if (!password) return [];
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // keep the raw form only
  }
  return [...new Set([password, decoded])];
}

/**
 * Secret values of an environment file: every value whose key looks secret, and the password inside any URL
 * value (DATABASE_URL=mysql://app:…@db/app). An unreadable file yields none: the checks that read it say why.
 */
export function envFileSecrets(path: string, readFile: (path: string) => string): string[] {
  let text: string;
  try {
    text = readFile(path);
  } catch {
    return [];
  }
  const values = parseEnvFile(text);
  const out: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === '') continue;
    if (SECRET_KEY.test(key)) out.push(value);
    out.push(...urlSecrets(value));
  }
  return out;
}

/** KEY=VALUE lines as Node reads a `.env` file (quotes, comments), also accepting `export KEY=VALUE`. */
export function parseEnvFile(text: string): Record<string, string> {
  return parseEnv(text.replace(/^[ \t]*export[ \t]+/gm, '')) as Record<string, string>;
}

/** Flag values that cannot be right refuse the run (exit 2), naming the flag but never echoing a DSN. */
function checkFlags(flags: TargetFlags): void {
  const issues: FieldIssue[] = [];
  const http = (flag: string, value: string | undefined) => {
    if (value !== undefined && !isUrl(value, ['http:', 'https:']))
      issues.push({
        field: flag,
        message: `expected an http(s) URL such as https://app.example.com, got "${value}"`,
      });
  };
  http('--app-url', flags.appUrl);
  http('--proxy-url', flags.proxyUrl);
  http('--sentry-url', flags.sentryUrl);
  for (const instance of flags.instances ?? []) http('--instance', instance);
  if (flags.mysqlDsn !== undefined && !isUrl(flags.mysqlDsn, ['mysql:', 'mariadb:']))
    issues.push({ field: '--mysql-dsn', message: 'expected mysql://user:password@host:3306/database' });
  if (flags.redisUrl !== undefined && !isUrl(flags.redisUrl, ['redis:', 'rediss:']))
    issues.push({ field: '--redis-url', message: 'expected redis://[:password@]host:6379/0' });
  for (const [flag, value] of [
    ['--env-file', flags.envFile],
    ['--log-file', flags.logFile],
    ['--sentry-org', flags.sentryOrg],
  ] as const)
    if (value !== undefined && value.trim() === '')
      issues.push({ field: flag, message: 'must not be empty' });
  if (issues.length > 0) throw invalidInput(issues);
}

function isUrl(text: string, protocols: string[]): boolean {
  return URL.canParse(text) && protocols.includes(new URL(text).protocol);
}

/** Output language: the flag, else the policy's `playbooks.language`, else English. */
export function resolveLanguage(flag: string | undefined, policy?: Pick<Policy, 'playbooks'>): 'en' | 'es' {
  if (flag !== undefined) {
    if (flag !== 'en' && flag !== 'es')
      throw new GuardiaError('invalid_input', `--lang must be en or es, got "${flag}"`);
    return flag;
  }
  return policy?.playbooks.language ?? 'en';
}

/**
 * What a playbook check is and what it reports. A playbook (`guardia diagnose login|slow|errors`, `guardia verify
 * …`) is a list of checks; each check looks at the real system through probes (HTTP, MySQL/MariaDB, Redis, logs,
 * Sentry) and ends in exactly one Finding. The decision ("is this a pass, warn or fail?") is a pure function of
 * what the probe observed, so it can be unit-tested without the system; the probe does the I/O around it.
 */

/** pass: the runbook's condition holds. warn: it holds, but close to a threshold. fail: it does not hold.
 *  skip: the check could not run here (no target configured, no permission, feature off) — the reason says why. */
export type FindingStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type PlaybookName = 'login' | 'slow' | 'errors' | 'tenant-indexes' | 'tenant-performance';

/** Words in both of the runbook's languages. */
export interface Bilingual {
  en: string;
  es: string;
}

/** The end of one check. Never carries a secret value: secrets appear only as `<redacted>` or a fingerprint. */
export interface Finding {
  /** Stable id, dotted: `login.trust_proxy`, `slow.mysql.connections`, `errors.by_procedure`. */
  id: string;
  playbook: PlaybookName;
  /** Group shown to people (e.g. "Configuration", "Cookies and CORS", "MySQL", "Redis", "Queues", "Logs"). */
  group: Bilingual;
  title: Bilingual;
  status: FindingStatus;
  /** One sentence naming the cause, e.g. "login returned 200 without Set-Cookie: TRUST_PROXY is unset, so the app
   *  sees http and will not send a Secure cookie". For skip: why it could not run. */
  summary: Bilingual;
  /** What the probe saw (header values, counts, EXPLAIN rows, log lines) — redacted. */
  evidence: Record<string, unknown>;
  /** The runbook's mitigation for this failure; present on warn/fail. */
  mitigation?: Bilingual;
  /** How long the check took, in milliseconds. */
  durationMs: number;
}

/** The result of running one playbook. */
export interface PlaybookReport {
  playbook: PlaybookName;
  startedAt: string;
  finishedAt: string;
  findings: Finding[];
  /** Worst status over the findings (skip counts as pass): what the exit code follows (fail → 1). */
  status: 'pass' | 'warn' | 'fail';
}

/** A finding as the public JSON shows it (snake_case, like every other Guardia answer). */
export type FindingJson = Omit<Finding, 'durationMs'> & { duration_ms: number };

/** A report as `guardia diagnose --json` prints it and `POST /api/v1/incidents/:id/findings` takes it. */
export interface PlaybookReportJson {
  playbook: PlaybookName;
  started_at: string;
  finished_at: string;
  status: PlaybookReport['status'];
  findings: FindingJson[];
}

/** The public JSON form of a report: Guardia's JSON fields are snake_case (DESIGN.md §4). */
export function reportToJson(report: PlaybookReport): PlaybookReportJson {
  return {
    playbook: report.playbook,
    started_at: report.startedAt,
    finished_at: report.finishedAt,
    status: report.status,
    findings: report.findings.map(({ durationMs, ...f }) => ({ ...f, duration_ms: durationMs })),
  };
}

/** Worst of the findings' statuses; skip and an empty list count as pass. */
export function overallStatus(findings: readonly { status: FindingStatus }[]): PlaybookReport['status'] {
  if (findings.some((f) => f.status === 'fail')) return 'fail';
  if (findings.some((f) => f.status === 'warn')) return 'warn';
  return 'pass';
}

/** Where the system under diagnosis is. Filled from the policy's `playbooks.targets` section, then from CLI flags.
 *  Every field is optional: a check whose target is missing ends in `skip` saying which flag or policy key to set. */
export interface PlaybookTargets {
  /** The app itself, e.g. http://10.0.0.5:3000 (as the proxy reaches it). */
  appUrl?: string;
  /** The public URL through the TLS-terminating proxy (sends `X-Forwarded-Proto: https`). */
  proxyUrl?: string;
  /** Base URLs of every app instance; their `/healthz` secret fingerprints must agree. */
  instances?: string[];
  /** The app's production environment file (KEY=VALUE lines), read for the configuration checks. */
  envFile?: string;
  /** A synthetic user for the login probe. The password is a secret (policy: `${ENV_VAR}`). */
  login?: { email: string; password: string; tenantId?: string };
  /** MySQL/MariaDB DSN of the app's database: mysql://user:pass@host:port/db (a secret). */
  mysqlDsn?: string;
  /** Redis URL of the app's cache/queues (a secret when it carries a password). */
  redisUrl?: string;
  /** The app's JSON log file (pino lines). */
  logFile?: string;
  /** Sentry's API for the errors playbook; the token is a secret. */
  sentry?: { apiUrl: string; org: string; token?: string };
  /** Name of the tenant column (default `tenant_id`). */
  tenantColumn: string;
  /** Per-tenant queries explained by `verify tenant-performance`/`diagnose slow`; `:tenant` is the tenant id. */
  tenantQueries: { name: string; sql: string }[];
  /** Index migrations that must be applied (the runbook's `0040`, `0041`). */
  indexMigrations: string[];
  /** Where the app records applied migrations: table and version column. */
  migrationsTable: { table: string; column: string };
  /** BullMQ queue names to inspect, and BullMQ's key prefix (default `bull`). */
  queues: string[];
  queuePrefix: string;
  thresholds: {
    /** Threads_connected / max_connections: warn and fail ratios (0.8, 0.9). */
    connectionsWarn: number;
    connectionsFail: number;
    /** Redis PING p99 in ms: warn 5, fail 100. */
    redisPingWarnMs: number;
    redisPingFailMs: number;
    /** EXPLAIN: a full scan examining more rows than this fails (1000). */
    fullScanRows: number;
    /** Queue backlog (waiting) above this warns; any failed job warns. */
    queueWaitingWarn: number;
  };
  /** How far back the errors playbook reads logs, in ms (default 1 h). */
  errorsWindowMs: number;
  /** Targets the policy names through a `${ENV}` reference whose variable is unset at run time: target → variable
   *  name. The target itself is then absent, and its checks skip with `missingTarget` (which names the variable). */
  unresolved?: Partial<Record<TargetKey, string>>;
}

/** The targets a check may find missing. */
export type TargetKey =
  'appUrl' | 'proxyUrl' | 'instances' | 'envFile' | 'login' | 'mysqlDsn' | 'redisUrl' | 'logFile' | 'sentry';

const TARGET_WORDS: Record<TargetKey, { flag?: string; key: string; en: string; es: string }> = {
  appUrl: { flag: '--app-url', key: 'app_url', en: 'app URL', es: 'URL de la app' },
  proxyUrl: { flag: '--proxy-url', key: 'proxy_url', en: 'public (proxy) URL', es: 'URL pública (proxy)' },
  instances: { flag: '--instance', key: 'instances', en: 'app instances', es: 'instancias de la app' },
  envFile: { flag: '--env-file', key: 'env_file', en: 'environment file', es: 'fichero de entorno' },
  login: { key: 'login', en: 'login test user', es: 'usuario de prueba para el login' },
  mysqlDsn: { flag: '--mysql-dsn', key: 'mysql_dsn', en: 'MySQL DSN', es: 'DSN de MySQL' },
  redisUrl: { flag: '--redis-url', key: 'redis_url', en: 'Redis URL', es: 'URL de Redis' },
  logFile: { flag: '--log-file', key: 'log_file', en: 'log file', es: 'fichero de logs' },
  sentry: {
    flag: '--sentry-url and --sentry-org',
    key: 'sentry',
    en: 'Sentry API',
    es: 'API de Sentry',
  },
};

/** The summary of a `skip` for a target that is not there: which flag or policy key to set, or which environment
 *  variable the policy refers to is unset. */
export function missingTarget(targets: PlaybookTargets, key: TargetKey): Bilingual {
  const w = TARGET_WORDS[key];
  const env = targets.unresolved?.[key];
  if (env)
    return {
      en: `no ${w.en}: playbooks.targets.${w.key} refers to \${${env}}, which is not set`,
      es: `${capitalize(w.es)} no disponible: playbooks.targets.${w.key} usa \${${env}}, que no está definida`,
    };
  const how = w.flag ? `pass ${w.flag} or set` : 'set';
  const comoEs = w.flag ? `usa ${w.flag} o define` : 'define';
  return {
    en: `no ${w.en} configured: ${how} playbooks.targets.${w.key} in guardia.yaml`,
    es: `${capitalize(w.es)} sin configurar: ${comoEs} playbooks.targets.${w.key} en guardia.yaml`,
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The default targets: the runbook's names and thresholds (DESIGN.md §6), no addresses. */
export const DEFAULT_TARGETS: PlaybookTargets = {
  tenantColumn: 'tenant_id',
  tenantQueries: [],
  indexMigrations: ['0040', '0041'],
  migrationsTable: { table: 'schema_migrations', column: 'version' },
  queues: [],
  queuePrefix: 'bull',
  thresholds: {
    connectionsWarn: 0.8,
    connectionsFail: 0.9,
    redisPingWarnMs: 5,
    redisPingFailMs: 100,
    fullScanRows: 1000,
    queueWaitingWarn: 1000,
  },
  errorsWindowMs: 60 * 60 * 1000,
};

/** Options of one run (flags that are not targets). */
export interface RunOptions {
  /** `--tenant ID`: the tenant whose login/performance is in question. */
  tenantId?: string;
  /** `--request-id ID`: the errors playbook looks up this request. */
  requestId?: string;
}

/** What a check receives. */
export interface CheckContext {
  targets: PlaybookTargets;
  options: RunOptions;
  /** Injected clock (log windows, Sentry queries). */
  now(): Date;
  /** Every secret value known to this run (env-file secrets, DSN passwords, tokens): findings are scrubbed of
   *  them by the runner, and checks must not copy them into evidence in the first place. */
  secrets: string[];
  /** Aborted when the runner gives up on this check (its timeout): pass it to probes that accept a signal. */
  signal?: AbortSignal;
  /** Says what the check is waiting on now ("CORS preflight to https://app.example.com"); a timeout names the
   *  last one, so "which probe hung" is in the finding. Optional to call; the runner always provides it. */
  probing?(what: string): void;
}

/** A finding before the runner stamps it with its playbook and duration. */
export type FindingDraft = Omit<Finding, 'playbook' | 'durationMs'>;

/** One check of a playbook. `run` may return several findings (one per table, per instance…). It should not
 *  throw for an expected condition (target unreachable = fail, target not configured = skip); if it throws
 *  anyway the runner turns the error into a `fail` finding whose summary carries the (redacted) message. */
export interface CheckDefinition {
  id: string;
  /** Group and title of this check, used by the runner when it must write the finding itself (a timeout, a
   *  throw); without them the group is "Checks" and the title is the id. */
  group?: Bilingual;
  title?: Bilingual;
  run(ctx: CheckContext): Promise<FindingDraft | FindingDraft[]>;
}

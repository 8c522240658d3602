/**
 * `guardia diagnose login|slow|errors` and `guardia verify tenant-indexes|tenant-performance`: the runbook's
 * playbooks run against the real system. Targets come from the policy's `playbooks` section; flags override them.
 *
 * Output: grouped checks for people (colour only on a TTY without NO_COLOR, a progress line per finished check
 * on stderr when it is a TTY), `--json` (the PlaybookReport) or `--markdown` (for an incident or a ticket).
 * `--incident ID` records the run on that incident's timeline (local store, or `--server URL --token T`).
 *
 * Exit codes: 0 pass or warn, 1 any check failed, 2 cannot run (bad flags, invalid policy, unknown incident,
 * store or server unavailable). No secret is ever printed: every finding is scrubbed of every secret the run
 * knows, and so is every error message.
 */
import type { Command } from 'commander';
import { reportToJson, type PlaybookName, type PlaybookReport } from '../playbooks/check.js';
import type { TargetFlags } from '../playbooks/targets.js';
import { printJson } from './output.js';

export interface DiagnoseOptions {
  appUrl?: string;
  proxyUrl?: string;
  instance: string[];
  envFile?: string;
  mysqlDsn?: string;
  redisUrl?: string;
  logFile?: string;
  sentryUrl?: string;
  sentryOrg?: string;
  tenant?: string;
  requestId?: string;
  window?: string;
  timeout: string;
  lang?: string;
  json: boolean;
  markdown: boolean;
  incident?: string;
  as?: string;
  server?: string;
  token?: string;
  policy?: string;
  database?: string;
}

const SUBCOMMANDS: { group: 'diagnose' | 'verify'; name: PlaybookName; description: string }[] = [
  {
    group: 'diagnose',
    name: 'login',
    description: 'runbook "No se puede iniciar sesión": login loop, 401/403',
  },
  {
    group: 'diagnose',
    name: 'slow',
    description: 'runbook "La app está lenta": MySQL, Redis, indexes, queues',
  },
  {
    group: 'diagnose',
    name: 'errors',
    description: 'runbook "Error 500 frecuente en módulo X": 5xx by procedure',
  },
  {
    group: 'verify',
    name: 'tenant-indexes',
    description: 'every table with a tenant column has an index starting with it',
  },
  {
    group: 'verify',
    name: 'tenant-performance',
    description: 'EXPLAIN the per-tenant queries for a real tenant (--tenant ID)',
  },
];

export function registerPlaybookCommands(program: Command): void {
  const groups = {
    diagnose: program
      .command('diagnose')
      .description(
        "run one of the runbook's incident playbooks against the app: exit 0 pass/warn, 1 fail, 2 cannot run",
      ),
    verify: program
      .command('verify')
      .description(
        'verify the per-tenant indexes and query plans of the app database (runbook "La app está lenta")',
      ),
  };
  for (const sub of SUBCOMMANDS) {
    const command = groups[sub.group].command(sub.name).description(sub.description);
    addOptions(command, sub.name).action(async (options: DiagnoseOptions) => {
      process.exitCode = await runDiagnose(sub.name, options);
      // A probe that timed out may still hold a socket; once everything is printed, do not wait for it.
      setTimeout(() => process.exit(), 3000).unref();
    });
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function addOptions(command: Command, name: PlaybookName): Command {
  return command
    .option('--app-url <url>', 'the app as the proxy reaches it (policy: playbooks.targets.app_url)')
    .option('--proxy-url <url>', 'the public URL through the TLS proxy (playbooks.targets.proxy_url)')
    .option(
      '--instance <url>',
      'an app instance base URL; repeat for each one (playbooks.targets.instances)',
      collect,
      [],
    )
    .option('--env-file <path>', "the app's production environment file (playbooks.targets.env_file)")
    .option(
      '--mysql-dsn <dsn>',
      "the app's MySQL/MariaDB: mysql://user:pass@host:3306/db (a secret; never printed)",
    )
    .option('--redis-url <url>', "the app's Redis: redis://[:pass@]host:6379/0 (never printed)")
    .option('--log-file <path>', "the app's JSON log file (playbooks.targets.log_file)")
    .option(
      '--sentry-url <url>',
      "Sentry's API base URL (default https://sentry.io; token from $SENTRY_AUTH_TOKEN)",
    )
    .option('--sentry-org <org>', 'Sentry organization slug')
    .option(
      '--tenant <id>',
      name === 'tenant-performance'
        ? 'a real tenant id whose queries are explained (default: $TENANT_ID)'
        : 'the tenant in question (login: its status; slow: its query plans)',
    )
    .option('--request-id <id>', 'errors: the X-Request-Id to trace to its stack trace and Sentry event')
    .option(
      '--window <duration>',
      'errors: how far back to read the logs, e.g. 30m, 1h (policy: errors_window)',
    )
    .option('--timeout <duration>', 'longest a single check may take, e.g. 10s', '10s')
    .option('--lang <lang>', 'en or es (default: playbooks.language in the policy, else en)')
    .option('--json', 'print the report as JSON', false)
    .option('--markdown', 'print a Markdown table (for an incident or a ticket)', false)
    .option('--incident <id>', "record the run on this incident's timeline")
    .option('--as <actor>', 'who ran it, on the timeline (default: cli:$USER)')
    .option('--server <url>', 'with --incident: a Guardia server to record it on (default: the local store)')
    .option('--token <token>', 'API token for --server, role responder (default: $GUARDIA_TOKEN)')
    .option(
      '--policy <file>',
      'policy file (default: $GUARDIA_POLICY, ./guardia.yaml, or the built-in runbook)',
    )
    .option(
      '--database <url>',
      'with --incident: database URL (default: $GUARDIA_DATABASE_URL or sqlite:./data/guardia.db)',
    );
}

/** Runs one playbook and prints it; returns the exit code. */
export async function runDiagnose(name: PlaybookName, options: DiagnoseOptions): Promise<number> {
  const { GuardiaError } = await import('../shared/errors.js');
  const { redactText } = await import('../playbooks/redact.js');
  let secrets: string[] = [];
  const fail = (message: string, code = 'invalid_input'): number => {
    const text = redactText(message, secrets);
    // With --json, errors are JSON too (the shape of every Guardia error), so a script can read them.
    process.stderr.write(
      options.json ? `${JSON.stringify({ error: { code, message: text } })}\n` : `guardia: ${text}\n`,
    );
    return 2;
  };
  try {
    const prepared = await prepare(name, options);
    secrets = prepared.secrets;
    const attach =
      prepared.incidentId === undefined ? undefined : await incidentSink(options, prepared.incidentId);
    try {
      await attach?.check();
      const report = await run(name, prepared);
      await print(report, prepared.lang, options);
      if (attach) {
        const line = await attach.record(report);
        process.stderr.write(`Recorded on incident ${prepared.incidentId}: ${line}\n`);
      }
      return report.status === 'fail' ? 1 : 0;
    } finally {
      await attach?.close();
    }
  } catch (err) {
    if (err instanceof GuardiaError) {
      const issues = (err.details as { issues?: { field: string; message: string }[] } | undefined)?.issues;
      if (err.code === 'invalid_policy') return fail(`the policy is not valid:\n${err.message}`, err.code);
      if (issues && issues.length > 1 && !options.json)
        return fail(
          `${err.message.split('; ')[0]}…\n${issues.map((i) => `  - ${i.field}: ${i.message}`).join('\n')}`,
        );
      return fail(err.message, err.code);
    }
    return fail(err instanceof Error ? err.message : String(err), 'internal');
  }
}

interface Prepared {
  lang: 'en' | 'es';
  timeoutMs: number;
  incidentId?: number;
  secrets: string[];
  ctx: import('../playbooks/check.js').CheckContext;
}

/** Everything that can refuse the run (flags, policy), before any probe starts. */
async function prepare(name: PlaybookName, options: DiagnoseOptions): Promise<Prepared> {
  const { GuardiaError, invalidInput } = await import('../shared/errors.js');
  const { parseDuration } = await import('../domain/policy/duration.js');
  const { loadPolicy, findPolicyPath } = await import('../domain/policy/load.js');
  const { resolveLanguage, resolveTargets } = await import('./../playbooks/targets.js');

  if (options.json && options.markdown)
    throw new GuardiaError('invalid_input', 'choose one of --json and --markdown');
  const wallMs = (flag: string, text: string): number => {
    const d = parseDuration(/^\d+$/.test(text.trim()) ? `${text.trim()}s` : text);
    if ('error' in d || d.kind !== 'wall' || d.ms <= 0)
      throw invalidInput([
        { field: flag, message: `expected a duration such as 10s, 5m or 1h, got "${text}"` },
      ]);
    return d.ms;
  };
  const timeoutMs = wallMs('--timeout', options.timeout);
  const errorsWindowMs = options.window === undefined ? undefined : wallMs('--window', options.window);
  let incidentId: number | undefined;
  if (options.incident !== undefined) {
    if (!/^[1-9]\d*$/.test(options.incident))
      throw invalidInput([
        { field: '--incident', message: `expected a positive incident id, got "${options.incident}"` },
      ]);
    incidentId = Number(options.incident);
  }
  const tenantId = options.tenant ?? (name === 'tenant-performance' ? process.env.TENANT_ID : undefined);
  if (tenantId !== undefined && !/^[\w.:-]{1,128}$/.test(tenantId))
    throw invalidInput([
      { field: '--tenant', message: `expected a tenant id such as 42, got "${tenantId}"` },
    ]);
  if (name === 'tenant-performance' && !tenantId)
    throw new GuardiaError(
      'invalid_input',
      'verify tenant-performance needs a real tenant: pass --tenant ID (or set TENANT_ID), as the runbook asks',
    );

  const policy = loadPolicy({ path: findPolicyPath({ path: options.policy }) });
  const lang = resolveLanguage(options.lang, policy);
  const flags: TargetFlags = {
    appUrl: options.appUrl,
    proxyUrl: options.proxyUrl,
    instances: options.instance,
    envFile: options.envFile,
    mysqlDsn: options.mysqlDsn,
    redisUrl: options.redisUrl,
    logFile: options.logFile,
    sentryUrl: options.sentryUrl,
    sentryOrg: options.sentryOrg,
    errorsWindowMs,
  };
  const { targets, secrets } = resolveTargets(policy, dropUndefined(flags), process.env);
  return {
    lang,
    timeoutMs,
    ...(incidentId === undefined ? {} : { incidentId }),
    secrets,
    ctx: {
      targets,
      options: {
        ...(tenantId ? { tenantId } : {}),
        ...(options.requestId ? { requestId: options.requestId } : {}),
      },
      now: () => new Date(),
      secrets,
    },
  };
}

async function run(name: PlaybookName, prepared: Prepared): Promise<PlaybookReport> {
  const { runPlaybook } = await import('../playbooks/runner.js');
  const { formatProgress } = await import('../playbooks/format.js');
  const progress = process.stderr.isTTY === true;
  const color = progress && colourWanted();
  return runPlaybook(name, prepared.ctx, {
    timeoutMs: prepared.timeoutMs,
    ...(progress
      ? {
          onProgress: (findings, p) =>
            process.stderr.write(formatProgress(findings, p, { lang: prepared.lang, color })),
        }
      : {}),
  });
}

async function print(report: PlaybookReport, lang: 'en' | 'es', options: DiagnoseOptions): Promise<void> {
  if (options.json) return printJson(reportToJson(report));
  const { formatReportMarkdown, formatReportText } = await import('../playbooks/format.js');
  process.stdout.write(
    options.markdown
      ? formatReportMarkdown(report, { lang })
      : formatReportText(report, { lang, color: process.stdout.isTTY === true && colourWanted() }),
  );
}

/** NO_COLOR (https://no-color.org): present and not empty turns colour off. */
function colourWanted(): boolean {
  const v = process.env.NO_COLOR;
  return v === undefined || v === '';
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Where `--incident` records the run: the local store, or a Guardia server's API. */
interface IncidentSink {
  /** Refuses (not_found, store/server unavailable) before the playbook runs. */
  check(): Promise<void>;
  /** Records the report; returns the timeline line. */
  record(report: PlaybookReport): Promise<string>;
  close(): Promise<void>;
}

async function incidentSink(options: DiagnoseOptions, incidentId: number): Promise<IncidentSink> {
  const server = options.server ?? process.env.GUARDIA_SERVER;
  const { cliActor } = await import('./context.js');
  const actor = cliActor(options.as);
  if (server) return serverSink(server, options.token ?? process.env.GUARDIA_TOKEN, incidentId);

  const { loadConfig } = await import('../config.js');
  const { openStore } = await import('../store/db.js');
  const { PlaybookService } = await import('../services/playbooks.js');
  const { systemClock } = await import('../shared/clock.js');
  const config = loadConfig({ databaseUrl: options.database, policy: options.policy });
  const store = await openStore({ url: config.databaseUrl });
  const service = new PlaybookService(store, systemClock);
  return {
    check: () => service.requireIncident(incidentId),
    record: async (report) => (await service.attachReport(incidentId, report, actor)).message,
    close: () => store.close(),
  };
}

function serverSink(server: string, token: string | undefined, incidentId: number): IncidentSink {
  const base = server.replace(/\/*$/, '/');
  const url = (path: string): URL => {
    if (!URL.canParse(path, base) || !/^https?:$/.test(new URL(path, base).protocol))
      throw new Error(`--server must be an http(s) URL like https://guardia.example.com, got "${server}"`);
    return new URL(path, base);
  };
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    if (!token) throw new Error('no API token: pass --token or set GUARDIA_TOKEN (role responder)');
    const target = url(path);
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new Error(`cannot reach the Guardia server at ${target.origin} (${(err as Error).message})`, {
        cause: err,
      });
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 200);
      try {
        const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (e) detail = `${e.code}: ${e.message}`;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(
        `the Guardia server refused ${method} ${target.pathname} (HTTP ${res.status} ${detail})`,
      );
    }
    return JSON.parse(text) as { message?: string };
  };
  return {
    check: async () => void (await call('GET', `api/v1/incidents/${incidentId}`)),
    record: async (report) =>
      (await call('POST', `api/v1/incidents/${incidentId}/findings`, reportToJson(report))).message ?? '',
    close: async () => undefined,
  };
}

/**
 * The login playbook's I/O: the env file, /healthz of each instance, one real login (through the proxy, or to the
 * app with `X-Forwarded-Proto: https`), the cross-instance session test, the tenant row. Each runs once per run
 * (memo). A cookie value obtained here stays inside this module: observations carry attributes and lengths.
 */
import { createConnection } from 'mysql2/promise';
import type { CheckContext } from '../check.js';
import { redactText } from '../redact.js';
import { loadEnvFile, secretValues, urlPassword, type LoadedEnvFile } from '../probes/env-file.js';
import {
  cookiePair,
  httpProbe,
  HttpProbeError,
  jsonBody,
  parseSetCookie,
  type ParsedSetCookie,
} from '../probes/http.js';
import { scrubCredentials } from '../probes/logs.js';
import { memo } from './memo.js';
import { pickSessionCookie, type LoginObservation } from './rules/login.js';
import { type CrossSession, type InstanceHealth } from './rules/sessions.js';
import { type TenantRow } from './rules/tenant.js';

/** Short: the whole playbook should answer in well under 3 s. */
export const HTTP_TIMEOUT_MS = 2000;
export const LOGIN_PATH = '/api/trpc/auth.login';
export const ME_PATH = '/api/trpc/auth.me';

export type EnvState =
  { state: 'none' } | { state: 'error'; error: string } | { state: 'ok'; file: LoadedEnvFile };

export function envOf(ctx: CheckContext): Promise<EnvState> {
  return memo(ctx, 'env', async (): Promise<EnvState> => {
    const file = ctx.targets.envFile;
    if (!file) return { state: 'none' };
    try {
      return { state: 'ok', file: await loadEnvFile(file) };
    } catch (err) {
      return { state: 'error', error: (err as NodeJS.ErrnoException).code ?? String(err) };
    }
  });
}

/** Every secret this run knows: the context's, the env file's, the synthetic user's password. */
export async function knownSecrets(ctx: CheckContext): Promise<string[]> {
  const env = await envOf(ctx);
  return [
    ...ctx.secrets,
    ...(env.state === 'ok' ? secretValues(env.file.vars) : []),
    ...(ctx.targets.login?.password ? [ctx.targets.login.password] : []),
    ...[ctx.targets.mysqlDsn, ctx.targets.redisUrl].flatMap((u) => {
      const pw = u ? urlPassword(u) : undefined;
      return pw ? [pw] : [];
    }),
    ...(ctx.targets.sentry?.token ? [ctx.targets.sentry.token] : []),
  ];
}

/** Free text (an error message, a log line) made safe for a finding. */
export async function scrub(ctx: CheckContext, text: string): Promise<string> {
  return scrubCredentials(redactText(text, await knownSecrets(ctx)));
}

/** The run's abort signal, as an httpProbe option. */
export const signal = (ctx: CheckContext): { signal?: AbortSignal } =>
  ctx.signal ? { signal: ctx.signal } : {};

export const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;

export function errorText(err: unknown): string {
  return err instanceof HttpProbeError ? err.message : err instanceof Error ? err.message : String(err);
}

export interface Healthz {
  url: string;
  ok: boolean;
  status?: number;
  error?: string;
  instance?: string;
  fingerprints?: Record<string, string>;
  nodeEnv?: string;
  trustProxy?: boolean;
}

export function healthzOf(ctx: CheckContext, base: string): Promise<Healthz> {
  return memo(ctx, `healthz:${base}`, async (): Promise<Healthz> => {
    try {
      ctx.probing?.(`GET ${join(base, '/healthz')}`);
      const res = await httpProbe(join(base, '/healthz'), { timeoutMs: HTTP_TIMEOUT_MS, ...signal(ctx) });
      const body = jsonBody(res) as Record<string, unknown> | undefined;
      if (res.status !== 200 || !body)
        return { url: base, ok: false, status: res.status, error: `HTTP ${res.status}` };
      const fp = body.fingerprints;
      const fingerprints =
        fp && typeof fp === 'object'
          ? Object.fromEntries(
              Object.entries(fp).filter(([, v]) => typeof v === 'string') as [string, string][],
            )
          : undefined;
      return {
        url: base,
        ok: true,
        status: res.status,
        ...(typeof body.instance === 'string' ? { instance: body.instance } : {}),
        ...(fingerprints ? { fingerprints } : {}),
        ...(typeof body.node_env === 'string' ? { nodeEnv: body.node_env } : {}),
        ...(typeof body.trust_proxy === 'boolean' ? { trustProxy: body.trust_proxy } : {}),
      };
    } catch (err) {
      return { url: base, ok: false, error: errorText(err) };
    }
  });
}

/** /healthz of the app (appUrl, else the first instance). */
export async function appHealthz(ctx: CheckContext): Promise<Healthz | undefined> {
  const base = ctx.targets.appUrl ?? ctx.targets.instances?.[0];
  return base ? healthzOf(ctx, base) : undefined;
}

/** The client origin from the env file, used as `Origin` on the login (some apps check it on mutations). */
async function clientOrigin(ctx: CheckContext): Promise<string | undefined> {
  const env = await envOf(ctx);
  const v = env.state === 'ok' ? env.file.vars.CLIENT_URL : undefined;
  try {
    return v ? new URL(v).origin : undefined;
  } catch {
    return undefined;
  }
}

function loginBody(login: NonNullable<CheckContext['targets']['login']>): string {
  const tenant = login.tenantId;
  return JSON.stringify({
    email: login.email,
    password: login.password,
    ...(tenant !== undefined ? { tenantId: /^\d+$/.test(tenant) ? Number(tenant) : tenant } : {}),
  });
}

/** An application error code in a tRPC answer: `error.data.appCode`, else a `TENANT_…` code anywhere in it, else
 *  `error.data.code` (FORBIDDEN, UNAUTHORIZED…). */
export function appCodeOf(body: string): string | undefined {
  type ErrorData = { appCode?: unknown; code?: unknown };
  let data: ErrorData | undefined;
  try {
    const json = JSON.parse(body) as { error?: { data?: ErrorData; json?: { data?: ErrorData } } };
    data = json.error?.data ?? json.error?.json?.data;
  } catch {
    data = undefined;
  }
  if (typeof data?.appCode === 'string') return data.appCode;
  const tenant = /\bTENANT_[A-Z_]+\b/.exec(body)?.[0];
  if (tenant) return tenant;
  return typeof data?.code === 'string' ? data.code : undefined;
}

interface LoginAttempt {
  observation: LoginObservation;
  /** `name=value` of the session cookie, for the follow-up requests; never leaves this module's callers' memory. */
  cookie?: string;
}

/** Logs in at `base` the way the proxy would (`X-Forwarded-Proto: https` unless `viaProxy`), then calls auth.me
 *  with the cookie at `meBase` (default the same base). */
async function attemptLogin(ctx: CheckContext, base: string, viaProxy: boolean): Promise<LoginAttempt> {
  const login = ctx.targets.login!;
  const via = viaProxy ? 'proxy' : 'forwarded-header';
  const url = join(base, LOGIN_PATH);
  const origin = await clientOrigin(ctx);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...(viaProxy ? {} : { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.10' }),
    ...(origin ? { origin } : {}),
  };
  try {
    ctx.probing?.(`POST ${url}`);
    const res = await httpProbe(url, {
      method: 'POST',
      headers,
      body: loginBody(login),
      timeoutMs: HTTP_TIMEOUT_MS,
      ...signal(ctx),
    });
    const parsed = res.setCookies.map((l) => ({ line: l, c: parseSetCookie(l) }));
    const cookies = parsed.map((p) => p.c).filter((c): c is ParsedSetCookie => !!c);
    const session = res.status === 200 ? pickSessionCookie(cookies) : undefined;
    const line = session ? parsed.find((p) => p.c === session)?.line : undefined;
    const appCode = res.status === 200 ? undefined : appCodeOf(res.body);
    return {
      observation: {
        outcome: 'answer',
        via,
        url,
        status: res.status,
        cookies,
        ...(session ? { session } : {}),
        ...(appCode ? { appCode } : {}),
      },
      ...(line ? { cookie: cookiePair(line) } : {}),
    };
  } catch (err) {
    return { observation: { outcome: 'error', via, url, error: await scrub(ctx, errorText(err)) } };
  }
}

export async function callMe(
  ctx: CheckContext,
  base: string,
  cookie: string,
  viaProxy: boolean,
): Promise<{ status?: number; error?: string }> {
  try {
    ctx.probing?.(`GET ${join(base, ME_PATH)}`);
    const res = await httpProbe(join(base, ME_PATH), {
      headers: { cookie, accept: 'application/json', ...(viaProxy ? {} : { 'x-forwarded-proto': 'https' }) },
      timeoutMs: HTTP_TIMEOUT_MS,
      ...signal(ctx),
    });
    return { status: res.status };
  } catch (err) {
    return { error: await scrub(ctx, errorText(err)) };
  }
}

/** The real login of `login.trust_proxy`/`login.set_cookie`/`login.tenant`: through the proxy when there is one,
 *  else to the app with `X-Forwarded-Proto: https`; then auth.me with the cookie. Undefined when there is no
 *  synthetic user or no URL. */
export function loginProbe(ctx: CheckContext): Promise<LoginObservation | undefined> {
  return memo(ctx, 'login', async () => {
    const { login, proxyUrl, appUrl, instances } = ctx.targets;
    const base = proxyUrl ?? appUrl ?? instances?.[0];
    if (!login || !base) return undefined;
    const viaProxy = !!proxyUrl;
    const attempt = await attemptLogin(ctx, base, viaProxy);
    const obs = attempt.observation;
    if (obs.outcome === 'answer' && attempt.cookie)
      obs.me = await callMe(ctx, base, attempt.cookie, viaProxy);
    return obs;
  });
}

/** Each instance's /healthz, in the order of targets.instances. */
export async function instancesHealth(ctx: CheckContext): Promise<InstanceHealth[]> {
  const list = ctx.targets.instances ?? [];
  const answers = await Promise.all(list.map((u) => healthzOf(ctx, u)));
  return answers.map((h): InstanceHealth =>
    h.ok
      ? {
          url: h.url,
          ok: true,
          name: h.instance ?? h.url,
          ...(h.fingerprints ? { fingerprints: h.fingerprints } : {}),
        }
      : { url: h.url, ok: false, error: h.error ?? 'no answer' },
  );
}

/** A session from instance 0 presented to every other instance. */
export async function crossInstanceSession(
  ctx: CheckContext,
  health: InstanceHealth[],
): Promise<CrossSession> {
  const list = ctx.targets.instances ?? [];
  if (list.length < 2) return { ran: false, reason: 'fewer than two instances' };
  if (!ctx.targets.login) return { ran: false, reason: 'no synthetic user (playbooks.targets.login)' };
  const name = (i: number) => {
    const h = health[i];
    return h && h.ok ? h.name : list[i]!;
  };
  const first = await attemptLogin(ctx, list[0]!, false);
  if (!first.cookie) {
    const o = first.observation;
    const why = o.outcome === 'error' ? o.error : `login answered ${o.status} without a session cookie`;
    return { ran: false, reason: `no session from ${name(0)}: ${why} (see login.set_cookie)` };
  }
  const cookie = first.cookie;
  const results = await Promise.all(
    list
      .slice(1)
      .map(async (u, i) => ({ url: u, name: name(i + 1), ...(await callMe(ctx, u, cookie, false)) })),
  );
  return { ran: true, from: name(0), results };
}

/** `SELECT status FROM tenants WHERE id = ?` on the app database. */
export async function tenantRow(ctx: CheckContext, tenantId: string): Promise<TenantRow | undefined> {
  const dsn = ctx.targets.mysqlDsn;
  if (!dsn) return undefined;
  let conn;
  try {
    ctx.probing?.(`the tenants table (tenant ${tenantId})`);
    conn = await createConnection({ uri: dsn, connectTimeout: HTTP_TIMEOUT_MS });
    const [rows] = await conn.query({
      sql: 'SELECT status FROM tenants WHERE id = ?',
      values: [tenantId],
      timeout: HTTP_TIMEOUT_MS,
    });
    const row = (rows as { status?: unknown }[])[0];
    return row ? { found: true, status: String(row.status) } : { found: false };
  } catch (err) {
    return { error: await scrub(ctx, err instanceof Error ? err.message : String(err)) };
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

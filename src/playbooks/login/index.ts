/**
 * `guardia diagnose login` — the runbook's "No se puede iniciar sesión" as checks (DESIGN.md §6):
 *
 * | id | asserts |
 * |---|---|
 * | login.node_env | NODE_ENV=production (env file, and the running app's /healthz) |
 * | login.secrets | JWT_SECRET, COOKIE_SECRET, *ENCRYPTION*KEY: present, ≥ 32 bytes, not placeholders/.env.example values, pairwise distinct |
 * | login.cookie_flags | COOKIE_SAMESITE=None requires COOKIE_SECURE=true |
 * | login.urls | CLIENT_URL, VITE_API_URL, VITE_OAUTH_PORTAL_URL, OAUTH_SERVER_URL are https origins (absent ones noted) |
 * | login.cross_site | cross-site client/API → the cookie is SameSite=None; Secure |
 * | login.cors | a preflight from CLIENT_URL gets exactly that origin + credentials; a foreign origin is not echoed |
 * | login.trust_proxy | TRUST_PROXY=1 (the app honours X-Forwarded-Proto from the TLS proxy) |
 * | login.set_cookie | a real login through the proxy sets a session cookie with Path/HttpOnly/SameSite/Secure/Domain right, and auth.me accepts it |
 * | login.session_consistency | every instance reports the same secret fingerprints and accepts a session from instance 0 |
 * | login.log_signatures | no token/cookie signature errors in the logs over the window |
 * | login.tenant | the tenant (--tenant or targets.login.tenantId) is not suspended or billing-locked |
 *
 * Checks never copy a secret into a finding; every finding is also scrubbed of every secret the run knows.
 */
import path from 'node:path';
import {
  missingTarget,
  type Bilingual,
  type CheckContext,
  type CheckDefinition,
  type FindingDraft,
} from '../check.js';
import { redactDeep } from '../redact.js';
import { httpProbe } from '../probes/http.js';
import { logFilesOf, scanLogs } from '../probes/logs.js';
import {
  appHealthz,
  crossInstanceSession,
  envOf,
  errorText,
  HTTP_TIMEOUT_MS,
  instancesHealth,
  join,
  knownSecrets,
  LOGIN_PATH,
  loginProbe,
  scrub,
  signal,
  tenantRow,
} from './probes.js';
import type { Decision } from './rules/common.js';
import { decideNodeEnv, decideSecrets, decideUrls } from './rules/config.js';
import {
  cookieSettings,
  decideCookieFlags,
  decideCors,
  decideCrossSite,
  FOREIGN_ORIGIN,
  isSameSite,
  type PreflightResult,
} from './rules/cookies.js';
import { decideSetCookie, decideTrustProxy, type TrustProxyInputs } from './rules/login.js';
import {
  decideLogSignatures,
  decideSessionConsistency,
  matchesSignatureError,
  type SignatureHit,
} from './rules/sessions.js';
import { decideTenant } from './rules/tenant.js';
import { both, GROUPS, TITLES } from './texts.js';

function define(
  id: string,
  group: Bilingual,
  title: Bilingual,
  decide: (ctx: CheckContext) => Promise<Decision>,
): CheckDefinition {
  return {
    id,
    group,
    title,
    async run(ctx) {
      const decision = await decide(ctx);
      const draft: FindingDraft = { id, group, title, ...decision };
      return redactDeep(draft, await knownSecrets(ctx));
    },
  };
}

/** The env file's variables, or the decision to return when there are none. */
async function envVars(
  ctx: CheckContext,
): Promise<{ vars: Record<string, string>; example?: Record<string, string> } | Decision> {
  const env = await envOf(ctx);
  if (env.state === 'none')
    return { status: 'skip', summary: missingTarget(ctx.targets, 'envFile'), evidence: {} };
  if (env.state === 'error')
    return {
      status: 'fail',
      summary: both(
        `cannot read the env file ${ctx.targets.envFile}: ${env.error}`,
        `no se puede leer el archivo env ${ctx.targets.envFile}: ${env.error}`,
      ),
      evidence: { env_file: ctx.targets.envFile },
    };
  return { vars: env.file.vars, ...(env.file.example ? { example: env.file.example.vars } : {}) };
}

const isDecision = (v: unknown): v is Decision => !!v && typeof v === 'object' && 'status' in v;

function withEnv(
  decide: (
    vars: Record<string, string>,
    ctx: CheckContext,
    example?: Record<string, string>,
  ) => Decision | Promise<Decision>,
) {
  return async (ctx: CheckContext): Promise<Decision> => {
    const env = await envVars(ctx);
    if (isDecision(env)) return env;
    const d = await decide(env.vars, ctx, env.example);
    const file = ctx.targets.envFile!;
    return { ...d, evidence: { env_file: path.basename(file), ...d.evidence } };
  };
}

async function trustInputs(ctx: CheckContext): Promise<TrustProxyInputs> {
  const [env, health] = await Promise.all([envOf(ctx), appHealthz(ctx)]);
  return {
    envRead: env.state === 'ok',
    ...(env.state === 'ok' && env.file.vars.TRUST_PROXY !== undefined
      ? { envValue: env.file.vars.TRUST_PROXY }
      : {}),
    ...(health?.trustProxy !== undefined ? { healthz: health.trustProxy } : {}),
  };
}

async function preflight(ctx: CheckContext, base: string, origin: string): Promise<PreflightResult> {
  try {
    ctx.probing?.(`CORS preflight from ${origin} to ${join(base, LOGIN_PATH)}`);
    const res = await httpProbe(join(base, LOGIN_PATH), {
      ...signal(ctx),
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
      timeoutMs: HTTP_TIMEOUT_MS,
    });
    const h = res.headers;
    return {
      ok: true,
      status: res.status,
      ...(h['access-control-allow-origin'] !== undefined
        ? { allowOrigin: h['access-control-allow-origin'] }
        : {}),
      ...(h['access-control-allow-credentials'] !== undefined
        ? { allowCredentials: h['access-control-allow-credentials'] }
        : {}),
      ...(h['access-control-allow-methods'] !== undefined
        ? { allowMethods: h['access-control-allow-methods'] }
        : {}),
    };
  } catch (err) {
    return { ok: false, error: errorText(err) };
  }
}

function configuredCookie(vars: Record<string, string>) {
  const c = cookieSettings(vars);
  return {
    same_site: c.sameSite,
    secure: c.secure,
    same_site_from: c.sameSiteSource,
    secure_from: c.secureSource,
  };
}

const noAppUrl = (ctx: CheckContext): Decision => ({
  status: 'skip',
  summary: missingTarget(ctx.targets, 'appUrl'),
  evidence: {},
});

export const loginChecks: CheckDefinition[] = [
  define('login.node_env', GROUPS.config, TITLES.node_env, async (ctx) => {
    const [env, health] = await Promise.all([envOf(ctx), appHealthz(ctx)]);
    if (env.state === 'error') return (await envVars(ctx)) as Decision;
    return decideNodeEnv(env.state === 'ok' ? env.file.vars : undefined, health?.nodeEnv);
  }),

  define(
    'login.secrets',
    GROUPS.config,
    TITLES.secrets,
    withEnv((vars, _ctx, example) => decideSecrets(vars, example)),
  ),

  define(
    'login.cookie_flags',
    GROUPS.cookies,
    TITLES.cookie_flags,
    withEnv((vars) => decideCookieFlags(vars)),
  ),

  define(
    'login.urls',
    GROUPS.config,
    TITLES.urls,
    withEnv((vars) => decideUrls(vars)),
  ),

  define(
    'login.cross_site',
    GROUPS.cookies,
    TITLES.cross_site,
    withEnv((vars) => decideCrossSite(vars)),
  ),

  define('login.cors', GROUPS.cookies, TITLES.cors, async (ctx) => {
    const base = ctx.targets.proxyUrl ?? ctx.targets.appUrl ?? ctx.targets.instances?.[0];
    if (!base) return noAppUrl(ctx);
    const env = await envOf(ctx);
    let clientOrigin: string | undefined;
    const raw = env.state === 'ok' ? env.file.vars.CLIENT_URL : undefined;
    try {
      clientOrigin = raw ? new URL(raw).origin : undefined;
    } catch {
      clientOrigin = undefined;
    }
    const [allowed, foreign] = await Promise.all([
      clientOrigin ? preflight(ctx, base, clientOrigin) : Promise.resolve(undefined),
      preflight(ctx, base, FOREIGN_ORIGIN),
    ]);
    const d = decideCors(clientOrigin, allowed, foreign);
    return { ...d, evidence: { url: join(base, LOGIN_PATH), ...d.evidence } };
  }),

  define('login.trust_proxy', GROUPS.cookies, TITLES.trust_proxy, async (ctx) => {
    const [trust, login] = await Promise.all([trustInputs(ctx), loginProbe(ctx)]);
    return decideTrustProxy(trust, login);
  }),

  define('login.set_cookie', GROUPS.cookies, TITLES.set_cookie, async (ctx) => {
    const [trust, login, env] = await Promise.all([trustInputs(ctx), loginProbe(ctx), envOf(ctx)]);
    if (!ctx.targets.login)
      return { status: 'skip', summary: missingTarget(ctx.targets, 'login'), evidence: {} };
    if (!login) return noAppUrl(ctx);
    const vars = env.state === 'ok' ? env.file.vars : {};
    let crossSite: boolean | undefined;
    let publicHost: string | undefined;
    try {
      if (vars.CLIENT_URL && vars.VITE_API_URL) crossSite = !isSameSite(vars.CLIENT_URL, vars.VITE_API_URL);
    } catch {
      crossSite = undefined;
    }
    try {
      publicHost = new URL(vars.VITE_API_URL ?? ctx.targets.proxyUrl ?? ctx.targets.appUrl ?? '').hostname;
    } catch {
      publicHost = undefined;
    }
    const d = decideSetCookie(login, {
      trust,
      ...(crossSite !== undefined ? { crossSite } : {}),
      ...(publicHost ? { publicHost } : {}),
    });
    return env.state === 'ok' ? { ...d, evidence: { ...d.evidence, configured: configuredCookie(vars) } } : d;
  }),

  define('login.session_consistency', GROUPS.sessions, TITLES.session_consistency, async (ctx) => {
    if (!ctx.targets.instances?.length)
      return { status: 'skip', summary: missingTarget(ctx.targets, 'instances'), evidence: {} };
    const health = await instancesHealth(ctx);
    if (health.length < 2) return decideSessionConsistency(health, undefined);
    return decideSessionConsistency(health, await crossInstanceSession(ctx, health));
  }),

  define('login.log_signatures', GROUPS.logs, TITLES.log_signatures, async (ctx) => {
    const files = logFilesOf(ctx.targets.logFile);
    if (!files.length)
      return { status: 'skip', summary: missingTarget(ctx.targets, 'logFile'), evidence: {} };
    const windowMs = ctx.targets.errorsWindowMs;
    const since = ctx.now().getTime() - windowMs;
    const hits: SignatureHit[] = [];
    let lines = 0;
    const stats = await scanLogs(files, { since }, (rec) => {
      lines++;
      const j = rec.json;
      const err = j?.err && typeof j.err === 'object' ? (j.err as Record<string, unknown>) : undefined;
      const text = j
        ? [j.msg, err?.type, err?.message, err?.code].filter((v) => typeof v === 'string').join(' ')
        : rec.raw;
      if (!matchesSignatureError(text)) return;
      hits.push({
        ...(rec.time !== undefined ? { time: rec.time } : {}),
        level: j?.level,
        msg: typeof j?.msg === 'string' ? j.msg : rec.raw.slice(0, 200),
        ...(typeof j?.reqId === 'string' ? { reqId: j.reqId } : {}),
        ...(typeof j?.layer === 'string' ? { layer: j.layer } : {}),
        ...(typeof j?.instance === 'string' ? { instance: j.instance } : {}),
        file: path.basename(rec.file),
      });
    });
    const unreadable = stats.filter((s) => s.error);
    for (const h of hits) h.msg = await scrub(ctx, h.msg);
    const d = decideLogSignatures(hits, windowMs, lines);
    const evidence = {
      ...d.evidence,
      files: stats.map((s) => ({
        file: path.basename(s.file),
        size_bytes: s.sizeBytes,
        bytes_read: s.bytesRead,
        ...(s.error ? { error: s.error } : {}),
      })),
    };
    if (unreadable.length && d.status === 'pass')
      return {
        status: 'fail',
        summary: both(
          `cannot read the log file ${unreadable.map((s) => `${s.file} (${s.error})`).join(', ')}`,
          `no se puede leer el log ${unreadable.map((s) => `${s.file} (${s.error})`).join(', ')}`,
        ),
        evidence,
      };
    return { ...d, evidence };
  }),

  define('login.tenant', GROUPS.tenant, TITLES.tenant, async (ctx) => {
    const tenantId = ctx.options.tenantId ?? ctx.targets.login?.tenantId;
    if (!tenantId) return decideTenant(undefined, undefined);
    const [row, login] = await Promise.all([tenantRow(ctx, tenantId), loginProbe(ctx)]);
    const loginSeen =
      login?.outcome === 'answer'
        ? {
            ...(ctx.targets.login?.tenantId !== undefined ? { tenantId: ctx.targets.login.tenantId } : {}),
            status: login.status,
            ...(login.appCode ? { appCode: login.appCode } : {}),
          }
        : undefined;
    return decideTenant(tenantId, row, loginSeen);
  }),
];

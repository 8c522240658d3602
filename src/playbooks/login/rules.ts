/**
 * The login playbook's decisions, pure: each takes what a probe observed (env file values, HTTP answers,
 * /healthz bodies, log lines, a tenant row) and returns status, summary, evidence and mitigation. No secret value
 * ever goes into a decision's output: secrets appear as byte lengths and fingerprints; cookies as attributes and
 * the length of their value.
 */
import type { FindingDraft } from '../check.js';
import { fingerprint } from '../redact.js';
import {
  cookieDomainMatches,
  cookiePathMatches,
  defaultCookiePath,
  type ParsedSetCookie,
} from '../probes/http.js';
import { both, MITIGATIONS } from './texts.js';

export type Decision = Omit<FindingDraft, 'id' | 'group' | 'title'>;

const skip = (en: string, es: string, evidence: Record<string, unknown> = {}): Decision => ({
  status: 'skip',
  summary: both(en, es),
  evidence,
});

export const MIN_SECRET_BYTES = 32;
/** Values no secret may have (compared case-insensitively); any value containing "changeme" is refused too. */
export const SECRET_DENYLIST = [
  'changeme',
  'secret',
  'password',
  'default',
  'example',
  'test',
  'dev',
  'jwt_secret',
];
export const URL_KEYS = ['CLIENT_URL', 'VITE_API_URL', 'VITE_OAUTH_PORTAL_URL', 'OAUTH_SERVER_URL'] as const;

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
const falsy = (v: string | undefined) => v !== undefined && /^(0|false|no|off)$/i.test(v.trim());

// ---------------------------------------------------------------------------------------------------------------
// NODE_ENV

export function decideNodeEnv(env: Record<string, string> | undefined, healthzNodeEnv?: string): Decision {
  const fileValue = env?.NODE_ENV;
  if (!env && healthzNodeEnv === undefined)
    return skip(
      'no env file and no /healthz node_env: set playbooks.targets.env_file (--env-file) or the app URL',
      'sin archivo env ni node_env en /healthz: configurar playbooks.targets.env_file (--env-file) o la URL de la app',
    );
  const evidence = {
    NODE_ENV: env ? (fileValue ?? 'unset') : 'env file not read',
    running_app_node_env: healthzNodeEnv ?? 'not reported',
  };
  if (env && fileValue !== 'production')
    return {
      status: 'fail',
      summary: both(
        `NODE_ENV is ${fileValue === undefined ? 'unset' : `"${fileValue}"`} in the env file, not production`,
        `NODE_ENV es ${fileValue === undefined ? 'vacío' : `"${fileValue}"`} en el archivo env, no production`,
      ),
      evidence,
      mitigation: MITIGATIONS.productionVars,
    };
  if (healthzNodeEnv !== undefined && healthzNodeEnv !== 'production')
    return {
      status: 'fail',
      summary: both(
        `the running app reports NODE_ENV="${healthzNodeEnv}"${env ? ' although the env file says production (not restarted?)' : ''}`,
        `la app en ejecución informa NODE_ENV="${healthzNodeEnv}"${env ? ' aunque el archivo env dice production (¿sin reiniciar?)' : ''}`,
      ),
      evidence,
      mitigation: MITIGATIONS.productionVars,
    };
  return { status: 'pass', summary: both('NODE_ENV=production', 'NODE_ENV=production'), evidence };
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets

export function secretKeysOf(env: Record<string, string>): string[] {
  const extra = Object.keys(env)
    .filter((k) => /ENCRYPTION.*KEY/i.test(k))
    .sort();
  return ['JWT_SECRET', 'COOKIE_SECRET', ...extra.filter((k) => k !== 'JWT_SECRET' && k !== 'COOKIE_SECRET')];
}

export function isDenylisted(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (SECRET_DENYLIST.includes(v)) return true;
  if (/change[-_ ]?me|replace[-_ ]?me|your[-_ ]?secret/.test(v)) return true;
  return /^(.)\1*$/.test(v); // one character repeated
}

export interface SecretReport {
  key: string;
  present: boolean;
  length_bytes?: number;
  fingerprint?: string;
  problems: string[];
}

export function decideSecrets(env: Record<string, string>, example?: Record<string, string>): Decision {
  const keys = secretKeysOf(env);
  const exampleValues = new Map<string, string>(); // value → key in .env.example
  for (const [k, v] of Object.entries(example ?? {})) if (v) exampleValues.set(v, k);
  const reports: SecretReport[] = keys.map((key) => {
    const value = env[key];
    if (value === undefined || value === '') return { key, present: false, problems: ['missing'] };
    const problems: string[] = [];
    const len = Buffer.byteLength(value, 'utf8');
    if (len < MIN_SECRET_BYTES) problems.push(`shorter than ${MIN_SECRET_BYTES} bytes`);
    if (isDenylisted(value)) problems.push('a known placeholder value');
    const exampleKey = exampleValues.get(value);
    if (exampleKey) problems.push(`equals the value of ${exampleKey} in .env.example`);
    return { key, present: true, length_bytes: len, fingerprint: fingerprint(value), problems };
  });
  for (let i = 0; i < reports.length; i++)
    for (let j = i + 1; j < reports.length; j++) {
      const a = reports[i]!;
      const b = reports[j]!;
      if (a.present && b.present && env[a.key] === env[b.key]) {
        a.problems.push(`same value as ${b.key}`);
        b.problems.push(`same value as ${a.key}`);
      }
    }
  const bad = reports.filter((r) => r.problems.length);
  const evidence = {
    secrets: reports,
    min_bytes: MIN_SECRET_BYTES,
    env_example: example ? 'compared' : 'none beside the env file',
  };
  if (!bad.length)
    return {
      status: 'pass',
      summary: both(
        `${keys.join(', ')}: present, ≥ ${MIN_SECRET_BYTES} bytes, not placeholders, pairwise distinct`,
        `${keys.join(', ')}: presentes, ≥ ${MIN_SECRET_BYTES} bytes, no de ejemplo, distintos entre sí`,
      ),
      evidence,
    };
  const text = bad.map((r) => `${r.key} ${r.problems.join(', ')}`).join('; ');
  return {
    status: 'fail',
    summary: both(text, `secretos débiles o repetidos: ${text}`),
    evidence,
    mitigation: MITIGATIONS.secrets,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Cookie flags

export interface CookieSettings {
  sameSite: string;
  secure: boolean;
  /** Where each came from: the env file or the app's documented default. */
  sameSiteSource: 'env' | 'default';
  secureSource: 'env' | 'default';
}

/** The cookie settings the app runs with: COOKIE_SAMESITE (default lax), COOKIE_SECURE (default true when
 *  NODE_ENV=production). */
export function cookieSettings(env: Record<string, string>): CookieSettings {
  const ss = env.COOKIE_SAMESITE?.trim();
  const sec = env.COOKIE_SECURE?.trim();
  return {
    sameSite: (ss || 'lax').toLowerCase(),
    sameSiteSource: ss ? 'env' : 'default',
    secure: sec ? truthy(sec) : env.NODE_ENV === 'production',
    secureSource: sec ? 'env' : 'default',
  };
}

export function decideCookieFlags(env: Record<string, string>): Decision {
  const s = cookieSettings(env);
  const evidence = {
    COOKIE_SAMESITE: env.COOKIE_SAMESITE ?? null,
    COOKIE_SECURE: env.COOKIE_SECURE ?? null,
    effective: {
      same_site: s.sameSite,
      secure: s.secure,
      same_site_from: s.sameSiteSource,
      secure_from: s.secureSource,
    },
  };
  if (!['lax', 'strict', 'none'].includes(s.sameSite))
    return {
      status: 'fail',
      summary: both(
        `COOKIE_SAMESITE="${env.COOKIE_SAMESITE}" is not lax, strict or none`,
        `COOKIE_SAMESITE="${env.COOKIE_SAMESITE}" no es lax, strict ni none`,
      ),
      evidence,
      mitigation: MITIGATIONS.cookieFlags,
    };
  if (s.sameSite === 'none' && !s.secure)
    return {
      status: 'fail',
      summary: both(
        `COOKIE_SAMESITE=none with COOKIE_SECURE=${env.COOKIE_SECURE ?? 'unset'}: browsers drop a SameSite=None cookie without Secure`,
        `COOKIE_SAMESITE=none con COOKIE_SECURE=${env.COOKIE_SECURE ?? 'vacío'}: los navegadores descartan una cookie SameSite=None sin Secure`,
      ),
      evidence,
      mitigation: MITIGATIONS.cookieFlags,
    };
  if (env.COOKIE_SECURE !== undefined && !truthy(env.COOKIE_SECURE) && !falsy(env.COOKIE_SECURE))
    return {
      status: 'warn',
      summary: both(
        `COOKIE_SECURE="${env.COOKIE_SECURE}" is neither true nor false`,
        `COOKIE_SECURE="${env.COOKIE_SECURE}" no es true ni false`,
      ),
      evidence,
      mitigation: MITIGATIONS.cookieFlags,
    };
  if (!s.secure && env.NODE_ENV === 'production')
    return {
      status: 'warn',
      summary: both(
        'COOKIE_SECURE=false in production: the session cookie may travel over plain http',
        'COOKIE_SECURE=false en producción: la cookie de sesión puede viajar por http',
      ),
      evidence,
      mitigation: MITIGATIONS.cookieFlags,
    };
  return {
    status: 'pass',
    summary: both(`SameSite=${s.sameSite}, Secure=${s.secure}`, `SameSite=${s.sameSite}, Secure=${s.secure}`),
    evidence,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// URLs

export interface UrlReport {
  key: string;
  present: boolean;
  origin?: string;
  problems: string[];
}

/** A URL shown without user:password. */
export function safeUrl(u: URL): string {
  const copy = new URL(u.toString());
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

export function checkUrl(key: string, value: string | undefined): UrlReport {
  if (value === undefined || value.trim() === '') return { key, present: false, problems: [] };
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    return { key, present: true, problems: ['does not parse as a URL'] };
  }
  const problems: string[] = [];
  if (u.protocol !== 'https:') problems.push(`scheme is ${u.protocol.replace(':', '')}, not https`);
  if (!u.hostname) problems.push('has no host');
  if (u.username || u.password) problems.push('carries credentials');
  if (key === 'CLIENT_URL' && (u.pathname !== '/' || u.search || u.hash))
    problems.push('is not a bare origin (the browser sends Origin without a path)');
  return { key, present: true, origin: u.origin, problems };
}

export function decideUrls(env: Record<string, string>): Decision {
  const reports = URL_KEYS.map((k) => checkUrl(k, env[k]));
  const present = reports.filter((r) => r.present);
  const absent = reports.filter((r) => !r.present).map((r) => r.key);
  const evidence = { urls: reports, not_set: absent };
  if (!present.length)
    return skip(
      `none of ${URL_KEYS.join(', ')} is set in the env file`,
      `ninguna de ${URL_KEYS.join(', ')} está en el archivo env`,
      evidence,
    );
  const bad = present.filter((r) => r.problems.length);
  const note = absent.length ? ` (${absent.join(', ')} not set: not checked)` : '';
  const nota = absent.length ? ` (${absent.join(', ')} no definidas: no se verifican)` : '';
  if (bad.length) {
    const text = bad.map((r) => `${r.key} ${r.problems.join(', ')}`).join('; ');
    return {
      status: 'fail',
      summary: both(`${text}${note}`, `${text}${nota}`),
      evidence,
      mitigation: MITIGATIONS.urls,
    };
  }
  const one = present.length === 1;
  return {
    status: 'pass',
    summary: both(
      `${present.map((r) => r.key).join(', ')} ${one ? 'is an https origin' : 'are https origins'}${note}`,
      `${present.map((r) => r.key).join(', ')} ${one ? 'es un origen https' : 'son orígenes https'}${nota}`,
    ),
    evidence,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Cross-site

/** Public suffixes with two labels, and hosting domains whose subdomains are separate sites (a subset of the
 *  Public Suffix List — enough to tell `app.example.co.uk` from `api.example.co.uk`). */
const MULTI_LABEL_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'com.au', 'net.au', 'org.au', 'co.nz', 'co.jp', 'ne.jp', 'or.jp', 'co.kr',
  'com.br', 'net.br', 'org.br', 'com.mx', 'org.mx', 'gob.mx', 'com.ar', 'gob.ar', 'com.co', 'com.pe', 'com.uy',
  'com.ec', 'com.ve', 'cl.cl', 'com.es', 'co.za', 'co.in', 'com.tr', 'com.cn', 'com.tw', 'com.hk', 'com.sg',
  'herokuapp.com', 'vercel.app', 'netlify.app', 'github.io', 'pages.dev', 'workers.dev', 'onrender.com',
  'fly.dev', 'azurewebsites.net', 'cloudfront.net', 'appspot.com', 'web.app', 'firebaseapp.com', 'railway.app',
  'up.railway.app', 'amplifyapp.com', 'elasticbeanstalk.com', 'ngrok.io', 'ngrok-free.app',
]); // prettier-ignore

/** The registrable domain ("eTLD+1") of a host; IPs and single-label hosts are their own site. */
export function registrableDomain(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (/^[\d.]+$/.test(h) || h.includes(':') || !h.includes('.')) return h;
  const labels = h.split('.');
  for (let n = Math.min(3, labels.length - 1); n >= 2; n--) {
    const suffix = labels.slice(-n).join('.');
    if (MULTI_LABEL_SUFFIXES.has(suffix)) return labels.slice(-(n + 1)).join('.');
  }
  return labels.slice(-2).join('.');
}

/** Schemeful same-site (what SameSite cookies follow): same scheme and same registrable domain. */
export function isSameSite(a: string, b: string): boolean {
  const ua = new URL(a);
  const ub = new URL(b);
  return ua.protocol === ub.protocol && registrableDomain(ua.hostname) === registrableDomain(ub.hostname);
}

export function decideCrossSite(env: Record<string, string>): Decision {
  const client = checkUrl('CLIENT_URL', env.CLIENT_URL);
  const api = checkUrl('VITE_API_URL', env.VITE_API_URL);
  if (!client.origin || !api.origin)
    return skip(
      `${!client.origin ? 'CLIENT_URL' : 'VITE_API_URL'} is not set (or not a URL): the client calls the API on its own origin, nothing cross-site to check`,
      `${!client.origin ? 'CLIENT_URL' : 'VITE_API_URL'} no está definida (o no es URL): el cliente llama a la API en su propio origen, nada cross-site que verificar`,
    );
  const s = cookieSettings(env);
  const sameOrigin = client.origin === api.origin;
  const sameSite = isSameSite(client.origin, api.origin);
  const evidence = {
    client_origin: client.origin,
    api_origin: api.origin,
    client_site: `${new URL(client.origin).protocol}//${registrableDomain(new URL(client.origin).hostname)}`,
    api_site: `${new URL(api.origin).protocol}//${registrableDomain(new URL(api.origin).hostname)}`,
    relation: sameOrigin ? 'same-origin' : sameSite ? 'same-site' : 'cross-site',
    cookie: { same_site: s.sameSite, secure: s.secure },
  };
  if (sameSite)
    return {
      status: 'pass',
      summary: both(
        `client and API are ${evidence.relation}: SameSite=${s.sameSite} cookies are sent`,
        `cliente y API son ${evidence.relation}: las cookies SameSite=${s.sameSite} se envían`,
      ),
      evidence,
    };
  if (s.sameSite !== 'none')
    return {
      status: 'fail',
      summary: both(
        `client ${client.origin} and API ${api.origin} are cross-site, but the cookie is SameSite=${s.sameSite}: the browser will not send it to the API (needs SameSite=None; Secure)`,
        `cliente ${client.origin} y API ${api.origin} son cross-site, pero la cookie es SameSite=${s.sameSite}: el navegador no la enviará a la API (requiere SameSite=None; Secure)`,
      ),
      evidence,
      mitigation: MITIGATIONS.crossSite,
    };
  if (!s.secure)
    return {
      status: 'warn',
      summary: both(
        'client and API are cross-site and SameSite=None, but without Secure the cookie is dropped (see login.cookie_flags)',
        'cliente y API son cross-site con SameSite=None, pero sin Secure la cookie se descarta (ver login.cookie_flags)',
      ),
      evidence,
      mitigation: MITIGATIONS.crossSite,
    };
  return {
    status: 'pass',
    summary: both(
      'client and API are cross-site and the cookie is SameSite=None; Secure',
      'cliente y API son cross-site y la cookie es SameSite=None; Secure',
    ),
    evidence,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CORS

export const FOREIGN_ORIGIN = 'https://evil.example';

export type PreflightResult =
  | {
      ok: true;
      status: number;
      allowOrigin?: string;
      allowCredentials?: string;
      allowMethods?: string;
      vary?: string;
    }
  | { ok: false; error: string };

export function decideCors(
  clientOrigin: string | undefined,
  allowed: PreflightResult | undefined,
  foreign: PreflightResult,
): Decision {
  const show = (r: PreflightResult | undefined) =>
    !r
      ? 'not sent (CLIENT_URL not set)'
      : r.ok
        ? {
            status: r.status,
            'access-control-allow-origin': r.allowOrigin ?? null,
            'access-control-allow-credentials': r.allowCredentials ?? null,
            'access-control-allow-methods': r.allowMethods ?? null,
          }
        : { error: r.error };
  const evidence = {
    client_origin: clientOrigin ?? null,
    preflight_from_client: show(allowed),
    foreign_origin: FOREIGN_ORIGIN,
    preflight_from_foreign: show(foreign),
  };
  const problems: string[] = [];
  const problemsEs: string[] = [];
  for (const r of [allowed, foreign])
    if (r && !r.ok) {
      problems.push(`the preflight got no answer (${r.error})`);
      problemsEs.push(`el preflight no obtuvo respuesta (${r.error})`);
    }
  if (clientOrigin && allowed?.ok) {
    if (allowed.allowOrigin !== clientOrigin) {
      problems.push(
        `a preflight from ${clientOrigin} got Access-Control-Allow-Origin ${allowed.allowOrigin === undefined ? '(none)' : `"${allowed.allowOrigin}"`} instead of exactly that origin`,
      );
      problemsEs.push(
        `un preflight desde ${clientOrigin} recibió Access-Control-Allow-Origin ${allowed.allowOrigin === undefined ? '(ninguno)' : `"${allowed.allowOrigin}"`} en vez de exactamente ese origen`,
      );
    }
    if (allowed.allowCredentials !== 'true') {
      problems.push(`Access-Control-Allow-Credentials is ${allowed.allowCredentials ?? 'missing'}, not true`);
      problemsEs.push(
        `Access-Control-Allow-Credentials es ${allowed.allowCredentials ?? 'ausente'}, no true`,
      );
    }
  }
  if (foreign.ok && (foreign.allowOrigin === FOREIGN_ORIGIN || foreign.allowOrigin === '*')) {
    const creds = foreign.allowCredentials === 'true';
    problems.push(
      `a foreign origin ${FOREIGN_ORIGIN} is allowed (Access-Control-Allow-Origin "${foreign.allowOrigin}"${creds ? ' with credentials' : ''}): any site can call the API as the user`,
    );
    problemsEs.push(
      `un origen ajeno ${FOREIGN_ORIGIN} está permitido (Access-Control-Allow-Origin "${foreign.allowOrigin}"${creds ? ' con credenciales' : ''}): cualquier sitio puede llamar a la API como el usuario`,
    );
  }
  if (problems.length)
    return {
      status: 'fail',
      summary: both(problems.join('; '), problemsEs.join('; ')),
      evidence,
      mitigation: MITIGATIONS.cors,
    };
  if (!clientOrigin)
    return {
      status: 'pass',
      summary: both(
        `foreign origins are refused (CLIENT_URL not set: the allowed origin was not checked)`,
        `los orígenes ajenos se rechazan (CLIENT_URL no definida: el origen permitido no se verificó)`,
      ),
      evidence,
    };
  return {
    status: 'pass',
    summary: both(
      `CORS allows exactly ${clientOrigin} with credentials and refuses ${FOREIGN_ORIGIN}`,
      `CORS permite exactamente ${clientOrigin} con credenciales y rechaza ${FOREIGN_ORIGIN}`,
    ),
    evidence,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Login probe: TRUST_PROXY and Set-Cookie

/** What a login attempt observed (never the cookie value or the password). */
export type LoginObservation =
  | { outcome: 'error'; error: string; via: 'proxy' | 'forwarded-header'; url: string }
  | {
      outcome: 'answer';
      via: 'proxy' | 'forwarded-header';
      url: string;
      status: number;
      cookies: ParsedSetCookie[];
      session?: ParsedSetCookie;
      /** An application code found in the answer (TENANT_SUSPENDED, UNAUTHORIZED…). */
      appCode?: string;
      /** `auth.me` sent with the session cookie. */
      me?: { status?: number; error?: string };
    };

export interface TrustProxyInputs {
  /** The env file was read. */
  envRead: boolean;
  /** TRUST_PROXY from the env file (undefined = unset or no env file). */
  envValue?: string;
  /** `trust_proxy` reported by the running app's /healthz. */
  healthz?: boolean;
}

/** TRUST_PROXY as apps read it: `1`/`true` or a hop count (trust the proxy in front), or an address/CIDR list
 *  (trust those proxies); unset, empty, `0` and `false` trust nobody. */
export function isTrustProxyOn(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase() ?? '';
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no' && v !== 'off';
}

/** "TRUST_PROXY is unset" / "TRUST_PROXY is "0"" / "the running app reports trust_proxy=false". */
export function trustProxyProblem(t: TrustProxyInputs): { en: string; es: string } | undefined {
  if (t.envRead && !isTrustProxyOn(t.envValue))
    return t.envValue === undefined
      ? { en: 'TRUST_PROXY is unset', es: 'TRUST_PROXY no está definida' }
      : { en: `TRUST_PROXY is "${t.envValue}"`, es: `TRUST_PROXY es "${t.envValue}"` };
  if (t.healthz === false)
    return t.envRead
      ? {
          en: 'the running app reports trust_proxy=false although the env file sets TRUST_PROXY=1 (not restarted?)',
          es: 'la app en ejecución informa trust_proxy=false aunque el archivo env define TRUST_PROXY=1 (¿sin reiniciar?)',
        }
      : {
          en: 'the running app reports trust_proxy=false',
          es: 'la app en ejecución informa trust_proxy=false',
        };
  return undefined;
}

const noCookie = (l: LoginObservation | undefined): boolean =>
  !!l && l.outcome === 'answer' && l.status === 200 && !l.session;

function noCookieSummary(problem: { en: string; es: string }) {
  return both(
    `login returned 200 without Set-Cookie: ${problem.en}, so the app sees http and will not send a Secure cookie`,
    `el login devolvió 200 sin Set-Cookie: ${problem.es}, así que la app ve http y no enviará una cookie Secure`,
  );
}

export function decideTrustProxy(t: TrustProxyInputs, login: LoginObservation | undefined): Decision {
  const evidence = {
    TRUST_PROXY: t.envRead ? (t.envValue ?? 'unset') : 'env file not read',
    running_app_trust_proxy: t.healthz ?? 'not reported',
    login: login ? loginEvidence(login) : 'not run',
  };
  const problem = trustProxyProblem(t);
  if (problem)
    return {
      status: 'fail',
      summary: noCookie(login)
        ? noCookieSummary(problem)
        : both(
            `${problem.en}: behind the TLS proxy the app ignores X-Forwarded-Proto and sees http`,
            `${problem.es}: detrás del proxy TLS la app ignora X-Forwarded-Proto y ve http`,
          ),
      evidence,
      mitigation: MITIGATIONS.noCookie,
    };
  if (!t.envRead && t.healthz === undefined) {
    if (login?.outcome === 'answer' && login.session?.secure)
      return {
        status: 'pass',
        summary: both(
          'the app honoured X-Forwarded-Proto: https (it sent a Secure cookie)',
          'la app respetó X-Forwarded-Proto: https (envió una cookie Secure)',
        ),
        evidence,
      };
    return skip(
      'no env file and no trust_proxy in /healthz: cannot tell whether the app trusts the proxy',
      'sin archivo env ni trust_proxy en /healthz: no se puede saber si la app confía en el proxy',
      evidence,
    );
  }
  return {
    status: 'pass',
    summary: both(
      `TRUST_PROXY=1${t.healthz ? ' (the running app reports trust_proxy=true)' : ''}`,
      `TRUST_PROXY=1${t.healthz ? ' (la app en ejecución informa trust_proxy=true)' : ''}`,
    ),
    evidence,
  };
}

export function cookieEvidence(c: ParsedSetCookie) {
  return {
    name: c.name,
    value_length: c.valueLength,
    path: c.path ?? null,
    domain: c.domain ?? null,
    same_site: c.sameSite ?? null,
    secure: c.secure,
    http_only: c.httpOnly,
    ...(c.maxAge !== undefined ? { max_age: c.maxAge } : {}),
    ...(c.expires !== undefined ? { expires: c.expires } : {}),
  };
}

export function loginEvidence(l: LoginObservation) {
  if (l.outcome === 'error') return { via: l.via, url: l.url, error: l.error };
  return {
    via: l.via,
    url: l.url,
    status: l.status,
    ...(l.appCode ? { app_code: l.appCode } : {}),
    set_cookie: l.cookies.map(cookieEvidence),
    session_cookie: l.session?.name ?? null,
    ...(l.me ? { auth_me: l.me } : {}),
  };
}

/** Picks the session cookie among several Set-Cookie lines. */
export function pickSessionCookie(cookies: readonly ParsedSetCookie[]): ParsedSetCookie | undefined {
  const live = cookies.filter((c) => c.valueLength > 0 && !(c.maxAge !== undefined && c.maxAge <= 0));
  return (
    live.find((c) => c.name === 'session') ??
    live.find((c) => /sess|sid|auth|token|jwt/i.test(c.name)) ??
    live.find((c) => c.httpOnly) ??
    live[0]
  );
}

export const TENANT_CODES: Record<string, string> = {
  TENANT_SUSPENDED: 'suspended',
  TENANT_BILLING_LOCKED: 'billing_locked',
};

export interface SetCookieExpectations {
  trust: TrustProxyInputs;
  /** Client and API are cross-site (from the env file), so the cookie must be SameSite=None. */
  crossSite?: boolean;
  /** The host the browser talks to (VITE_API_URL's host, or the proxy's). */
  publicHost?: string;
  /** The path the session must reach. */
  apiPath?: string;
  loginPath?: string;
}

export function decideSetCookie(login: LoginObservation | undefined, x: SetCookieExpectations): Decision {
  if (!login)
    return skip(
      'no synthetic user or no app URL: set playbooks.targets.login (email, password) and app_url/proxy_url',
      'sin usuario sintético o sin URL de la app: configurar playbooks.targets.login (email, password) y app_url/proxy_url',
    );
  const evidence: Record<string, unknown> = { login: loginEvidence(login) };
  const fail = (en: string, es: string, mitigation = MITIGATIONS.noCookie): Decision => ({
    status: 'fail',
    summary: both(en, es),
    evidence,
    mitigation,
  });
  if (login.outcome === 'error')
    return fail(
      `the login request got no answer: ${login.error}`,
      `el login no obtuvo respuesta: ${login.error}`,
    );
  if (login.appCode && TENANT_CODES[login.appCode])
    return skip(
      `login refused with ${login.status} ${login.appCode}: the tenant is ${TENANT_CODES[login.appCode]} (see login.tenant)`,
      `login rechazado con ${login.status} ${login.appCode}: el tenant está ${TENANT_CODES[login.appCode]} (ver login.tenant)`,
      evidence,
    );
  if (login.status !== 200)
    return fail(
      `login answered ${login.status}${login.appCode ? ` ${login.appCode}` : ''} for the synthetic user${login.status === 401 || login.status === 400 ? ' (check targets.login: email, password, tenant)' : ''}`,
      `el login respondió ${login.status}${login.appCode ? ` ${login.appCode}` : ''} para el usuario sintético${login.status === 401 || login.status === 400 ? ' (revisar targets.login: email, password, tenant)' : ''}`,
    );
  if (!login.session) {
    const problem = trustProxyProblem(x.trust);
    if (problem) return { ...fail('', ''), summary: noCookieSummary(problem) };
    return fail(
      'login returned 200 without Set-Cookie although TRUST_PROXY=1: the proxy may not send X-Forwarded-Proto: https, or COOKIE_SECURE=true while the app is reached over plain http',
      'el login devolvió 200 sin Set-Cookie aunque TRUST_PROXY=1: el proxy quizá no envía X-Forwarded-Proto: https, o COOKIE_SECURE=true con la app servida por http',
    );
  }
  const c = login.session;
  const problems: { en: string; es: string }[] = [];
  const ss = c.sameSite?.toLowerCase();
  if (!c.secure)
    problems.push(
      ss === 'none'
        ? {
            en: 'SameSite=None without Secure (browsers drop it)',
            es: 'SameSite=None sin Secure (los navegadores la descartan)',
          }
        : { en: 'no Secure attribute behind HTTPS', es: 'sin atributo Secure detrás de HTTPS' },
    );
  if (!c.httpOnly)
    problems.push({ en: 'no HttpOnly (readable by scripts)', es: 'sin HttpOnly (legible por scripts)' });
  const effectivePath =
    c.path && c.path.startsWith('/') ? c.path : defaultCookiePath(x.loginPath ?? '/api/trpc/auth.login');
  const apiPath = x.apiPath ?? '/api/trpc/auth.me';
  if (!cookiePathMatches(effectivePath, apiPath))
    problems.push({
      en: `Path=${effectivePath} does not cover ${apiPath}`,
      es: `Path=${effectivePath} no cubre ${apiPath}`,
    });
  if (c.domain && x.publicHost && !cookieDomainMatches(c.domain, x.publicHost))
    problems.push({
      en: `Domain=${c.domain} does not match the public host ${x.publicHost} (the browser rejects it)`,
      es: `Domain=${c.domain} no coincide con el host público ${x.publicHost} (el navegador la rechaza)`,
    });
  if (x.crossSite && ss !== 'none')
    problems.push({
      en: `SameSite=${c.sameSite ?? '(default Lax)'} while client and API are cross-site`,
      es: `SameSite=${c.sameSite ?? '(Lax por defecto)'} con cliente y API cross-site`,
    });
  if (c.maxAge !== undefined && c.maxAge <= 0)
    problems.push({
      en: `Max-Age=${c.maxAge} deletes it at once`,
      es: `Max-Age=${c.maxAge} la borra al instante`,
    });
  if (login.me && login.me.status !== 200)
    problems.push({
      en: `auth.me with the new cookie answered ${login.me.status ?? login.me.error ?? 'nothing'}`,
      es: `auth.me con la cookie nueva respondió ${login.me.status ?? login.me.error ?? 'nada'}`,
    });
  if (problems.length)
    return fail(
      `session cookie "${c.name}": ${problems.map((p) => p.en).join('; ')}`,
      `cookie de sesión "${c.name}": ${problems.map((p) => p.es).join('; ')}`,
      login.me && login.me.status === 401 && problems.length === 1
        ? MITIGATIONS.invalidToken
        : MITIGATIONS.noCookie,
    );
  const warnPath = effectivePath !== '/';
  const attrs = `Path=${effectivePath}; HttpOnly; SameSite=${c.sameSite ?? '(default)'}; Secure${c.domain ? `; Domain=${c.domain}` : ''}`;
  return {
    status: warnPath ? 'warn' : 'pass',
    summary: warnPath
      ? both(
          `session cookie "${c.name}" is set (${attrs}) but Path is not /: other paths will not get it`,
          `la cookie de sesión "${c.name}" se envía (${attrs}) pero Path no es /: otras rutas no la reciben`,
        )
      : both(
          `login sets "${c.name}" (${attrs})${login.me ? ' and auth.me accepts it' : ''}`,
          `el login envía "${c.name}" (${attrs})${login.me ? ' y auth.me la acepta' : ''}`,
        ),
    evidence,
    ...(warnPath ? { mitigation: MITIGATIONS.noCookie } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Session consistency across instances

export type InstanceHealth =
  | { url: string; ok: true; name: string; fingerprints?: Record<string, string> }
  | { url: string; ok: false; error: string };

export type CrossSession =
  | { ran: false; reason: string }
  | { ran: true; from: string; results: { url: string; name: string; status?: number; error?: string }[] };

export function decideSessionConsistency(
  health: InstanceHealth[],
  cross: CrossSession | undefined,
): Decision {
  if (health.length < 2)
    return skip(
      `${health.length} instance${health.length === 1 ? '' : 's'} configured: nothing to compare (set playbooks.targets.instances to every instance's URL)`,
      `${health.length} instancia(s) configurada(s): nada que comparar (configurar playbooks.targets.instances con la URL de cada instancia)`,
    );
  const evidence: Record<string, unknown> = {
    instances: health.map((h) =>
      h.ok
        ? { url: h.url, name: h.name, fingerprints: h.fingerprints ?? 'not reported' }
        : { url: h.url, error: h.error },
    ),
    cross_instance_session: cross ?? 'not run',
  };
  const problems: { en: string; es: string }[] = [];
  for (const h of health)
    if (!h.ok)
      problems.push({
        en: `${h.url} /healthz got no answer (${h.error})`,
        es: `${h.url} /healthz no respondió (${h.error})`,
      });
  const up = health.filter((h): h is Extract<InstanceHealth, { ok: true }> => h.ok);
  const ref = up[0];
  const keys = [...new Set(up.flatMap((h) => Object.keys(h.fingerprints ?? {})))].sort();
  for (const key of keys) {
    const values = new Map<string, string[]>();
    for (const h of up) {
      const v = h.fingerprints?.[key] ?? '(not reported)';
      values.set(v, [...(values.get(v) ?? []), h.name]);
    }
    if (values.size > 1) {
      const parts = [...values].map(([fp, names]) => `${names.join(', ')}: ${fp}`).join(' vs ');
      problems.push({
        en: `${key} differs between instances (fingerprints ${parts})`,
        es: `${key} difiere entre instancias (huellas ${parts})`,
      });
    }
  }
  if (cross?.ran)
    for (const r of cross.results)
      if (r.status !== 200)
        problems.push({
          en: `a session from ${cross.from} is refused by ${r.name} (${r.status ?? r.error})`,
          es: `una sesión de ${cross.from} es rechazada por ${r.name} (${r.status ?? r.error})`,
        });
  if (problems.length)
    return {
      status: 'fail',
      summary: both(problems.map((p) => p.en).join('; '), problems.map((p) => p.es).join('; ')),
      evidence,
      mitigation: MITIGATIONS.invalidToken,
    };
  const what = keys.length ? `same fingerprints for ${keys.join(', ')}` : 'no fingerprints reported';
  const que = keys.length ? `mismas huellas para ${keys.join(', ')}` : 'sin huellas informadas';
  const crossText = cross?.ran
    ? {
        en: `; a session from ${ref?.name} is accepted by every other instance`,
        es: `; una sesión de ${ref?.name} es aceptada por las demás instancias`,
      }
    : {
        en: cross ? ` (cross-instance session not tried: ${cross.reason})` : '',
        es: cross ? ` (sesión entre instancias no probada: ${cross.reason})` : '',
      };
  return {
    status: 'pass',
    summary: both(
      `${up.length} instances: ${what}${crossText.en}`,
      `${up.length} instancias: ${que}${crossText.es}`,
    ),
    evidence,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Log signatures

/** Log messages that mean a token or cookie signature did not verify. */
export const SIGNATURE_PATTERNS: RegExp[] = [
  /invalid (session |cookie |token |jwt )?signature/i,
  /signature verification failed/i,
  /JWSSignatureVerificationFailed/,
  /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
  /jwt malformed|invalid token|JWSInvalid|JWTInvalid/i,
  /(bad|invalid) (cookie|session) (signature|secret)/i,
  /unsign(ed)? cookie|cookie .*tampered/i,
];

export interface SignatureHit {
  time?: number;
  level?: unknown;
  msg: string;
  reqId?: string;
  /** Which signature failed, when the app says (`cookie` → COOKIE_SECRET, `jwt` → JWT_SECRET). */
  layer?: string;
  /** The instance that logged it, when the line says. */
  instance?: string;
  file: string;
}

const LAYER_SECRET: Record<string, string> = { cookie: 'COOKIE_SECRET', jwt: 'JWT_SECRET' };

export function matchesSignatureError(text: string): boolean {
  return SIGNATURE_PATTERNS.some((p) => p.test(text));
}

export function decideLogSignatures(hits: SignatureHit[], windowMs: number, linesScanned: number): Decision {
  const minutes = Math.round(windowMs / 60_000);
  const times = hits.map((h) => h.time).filter((t): t is number => t !== undefined);
  const byMessage: Record<string, number> = {};
  const byLayer: Record<string, number> = {};
  const byInstance: Record<string, number> = {};
  for (const h of hits) {
    byMessage[h.msg] = (byMessage[h.msg] ?? 0) + 1;
    if (h.layer) byLayer[h.layer] = (byLayer[h.layer] ?? 0) + 1;
    const where = h.instance ?? h.file;
    byInstance[where] = (byInstance[where] ?? 0) + 1;
  }
  const evidence = {
    window_minutes: minutes,
    lines_scanned: linesScanned,
    count: hits.length,
    by_message: byMessage,
    ...(Object.keys(byLayer).length ? { by_layer: byLayer } : {}),
    by_instance: byInstance,
    first_seen: times.length ? new Date(Math.min(...times)).toISOString() : null,
    last_seen: times.length ? new Date(Math.max(...times)).toISOString() : null,
    samples: hits.slice(0, 5).map((h) => ({
      time: h.time !== undefined ? new Date(h.time).toISOString() : null,
      level: h.level ?? null,
      msg: h.msg,
      req_id: h.reqId ?? null,
      ...(h.layer ? { layer: h.layer } : {}),
      ...(h.instance ? { instance: h.instance } : {}),
      file: h.file,
    })),
  };
  if (!hits.length)
    return {
      status: 'pass',
      summary: both(
        `no token/cookie signature errors in the last ${minutes} min (${linesScanned} lines)`,
        `sin errores de firma token/cookie en los últimos ${minutes} min (${linesScanned} líneas)`,
      ),
      evidence,
    };
  const top = Object.entries(byMessage).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  const secrets = Object.keys(byLayer)
    .map((l) => LAYER_SECRET[l] ?? l)
    .join(', ');
  const instances = Object.keys(byInstance).join(', ');
  return {
    status: 'fail',
    summary: both(
      `${hits.length} token/cookie signature error${hits.length === 1 ? '' : 's'} in the last ${minutes} min on ${instances} (e.g. "${top}"${secrets ? `; ${secrets} did not verify` : ''}): sessions signed with another secret`,
      `${hits.length} error(es) de firma token/cookie en los últimos ${minutes} min en ${instances} (p. ej. "${top}"${secrets ? `; no verificó ${secrets}` : ''}): sesiones firmadas con otro secreto`,
    ),
    evidence,
    mitigation: MITIGATIONS.invalidToken,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Tenant

export type TenantRow = { found: true; status: string } | { found: false } | { error: string };

/** suspended / billing_locked (any spelling) → the blocking state, else undefined. */
export function blockingTenantState(status: string): 'suspended' | 'billing_locked' | undefined {
  const s = status
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (/suspend/.test(s)) return 'suspended';
  if (/billing|locked|lock/.test(s)) return 'billing_locked';
  return undefined;
}

export function decideTenant(
  tenantId: string | undefined,
  row: TenantRow | undefined,
  login?: { tenantId?: string; status: number; appCode?: string },
): Decision {
  if (!tenantId)
    return skip(
      'no tenant given: pass --tenant ID or set playbooks.targets.login.tenant_id',
      'sin tenant: pasar --tenant ID o configurar playbooks.targets.login.tenant_id',
    );
  const loginState = login?.appCode ? TENANT_CODES[login.appCode] : undefined;
  const evidence: Record<string, unknown> = {
    tenant_id: tenantId,
    database: !row
      ? 'not queried (no mysql DSN)'
      : 'error' in row
        ? { error: row.error }
        : row.found
          ? { status: row.status }
          : { found: false },
    ...(login
      ? {
          login: { tenant_id: login.tenantId ?? null, status: login.status, app_code: login.appCode ?? null },
        }
      : {}),
  };
  const fail = (en: string, es: string): Decision => ({
    status: 'fail',
    summary: both(en, es),
    evidence,
    mitigation: MITIGATIONS.tenant,
  });
  if (row && 'found' in row && row.found) {
    const state = blockingTenantState(row.status);
    if (state)
      return fail(
        `tenant ${tenantId} is ${row.status} in the app database: its users cannot log in`,
        `el tenant ${tenantId} está ${row.status} en la base de la app: sus usuarios no pueden iniciar sesión`,
      );
  }
  if (loginState && (login?.tenantId === undefined || login.tenantId === tenantId))
    return fail(
      `login for tenant ${login?.tenantId ?? tenantId} answered ${login?.status} ${login?.appCode}: the tenant is ${loginState}`,
      `el login del tenant ${login?.tenantId ?? tenantId} respondió ${login?.status} ${login?.appCode}: el tenant está ${loginState}`,
    );
  if (row && 'found' in row && !row.found)
    return fail(
      `tenant ${tenantId} does not exist in the tenants table`,
      `el tenant ${tenantId} no existe en la tabla tenants`,
    );
  if (row && 'error' in row)
    return {
      status: 'fail',
      summary: both(
        `could not read tenant ${tenantId}'s status: ${row.error}`,
        `no se pudo leer el estado del tenant ${tenantId}: ${row.error}`,
      ),
      evidence,
      mitigation: MITIGATIONS.tenant,
    };
  if (!row)
    return skip(
      'no app database DSN (playbooks.targets.mysql_dsn) and the login did not report the tenant state',
      'sin DSN de la base de la app (playbooks.targets.mysql_dsn) y el login no informó el estado del tenant',
      evidence,
    );
  return {
    status: 'pass',
    summary: both(
      `tenant ${tenantId} is ${(row as { status: string }).status}`,
      `el tenant ${tenantId} está ${(row as { status: string }).status}`,
    ),
    evidence,
  };
}

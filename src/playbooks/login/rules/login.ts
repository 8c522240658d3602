/**
 * The real-login decisions: does the app trust the TLS proxy, and does a login set a correct session cookie.
 * Pure: what a probe observed in, status/summary/evidence/mitigation out; no secret value in the output.
 */
import {
  cookieDomainMatches,
  cookiePathMatches,
  defaultCookiePath,
  type ParsedSetCookie,
} from '../../probes/http.js';
import { both, MITIGATIONS } from '../texts.js';
import { type Decision, skip } from './common.js';

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

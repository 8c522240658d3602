/**
 * Cookie decisions of the login playbook: SameSite/Secure coherence, cross-site client and API, CORS.
 * Pure: what a probe observed in, status/summary/evidence/mitigation out; no secret value in the output.
 */
import { both, MITIGATIONS } from '../texts.js';
import { type Decision, falsy, skip, truthy } from './common.js';
import { checkUrl } from './config.js';

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

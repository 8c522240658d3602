import { describe, expect, it } from 'vitest';
import {
  cookieDomainMatches,
  cookiePair,
  cookiePathMatches,
  defaultCookiePath,
  parseSetCookie,
  type ParsedSetCookie,
} from '../../../src/playbooks/probes/http.js';
import { appCodeOf } from '../../../src/playbooks/login/probes.js';
import {
  decideCors,
  decideCrossSite,
  FOREIGN_ORIGIN,
  isSameSite,
  registrableDomain,
} from '../../../src/playbooks/login/rules/cookies.js';
import {
  decideSetCookie,
  decideTrustProxy,
  isTrustProxyOn,
  pickSessionCookie,
  type LoginObservation,
} from '../../../src/playbooks/login/rules/login.js';

const SIGNED = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl.AbCdEfGh';

describe('Set-Cookie parsing', () => {
  it('keeps the attributes and only the length of the value', () => {
    const c = parseSetCookie(
      `session=${SIGNED}; Path=/; HttpOnly; SameSite=None; Secure; Max-Age=43200; Partitioned`,
    );
    expect(c).toEqual({
      name: 'session',
      valueLength: SIGNED.length,
      path: '/',
      sameSite: 'None',
      secure: true,
      httpOnly: true,
      maxAge: 43200,
      other: ['partitioned'],
    });
    expect(JSON.stringify(c)).not.toContain(SIGNED);
    expect(cookiePair(`session=${SIGNED}; Path=/`)).toBe(`session=${SIGNED}`);
  });

  it('reads attribute names case-insensitively, the last one winning, and refuses nameless cookies', () => {
    const c = parseSetCookie(
      'sid=abc; path=/api; DOMAIN=.example.com; samesite=lax; samesite=strict; httponly',
    );
    expect(c?.path).toBe('/api');
    expect(c?.domain).toBe('.example.com');
    expect(c?.sameSite).toBe('strict');
    expect(c?.secure).toBe(false);
    expect(c?.httpOnly).toBe(true);
    expect(parseSetCookie('=value; Path=/')).toBeUndefined();
    expect(parseSetCookie('garbage')).toBeUndefined();
  });

  it('matches paths and domains as RFC 6265 does', () => {
    expect(defaultCookiePath('/api/trpc/auth.login')).toBe('/api/trpc');
    expect(defaultCookiePath('/login')).toBe('/');
    expect(cookiePathMatches('/', '/api/trpc/auth.me')).toBe(true);
    expect(cookiePathMatches('/api/trpc', '/api/trpc/auth.me')).toBe(true);
    expect(cookiePathMatches('/api/trpc', '/api/trpcx')).toBe(false);
    expect(cookiePathMatches('/auth', '/api/trpc/auth.me')).toBe(false);
    expect(cookieDomainMatches('.example.com', 'api.example.com')).toBe(true);
    expect(cookieDomainMatches('example.com', 'example.com')).toBe(true);
    expect(cookieDomainMatches('other.com', 'api.example.com')).toBe(false);
    expect(cookieDomainMatches('0.0.1', '127.0.0.1')).toBe(false);
  });

  it('picks the session cookie among several', () => {
    const list = [
      parseSetCookie('theme=dark; Path=/')!,
      parseSetCookie('csrf=x; Path=/')!,
      parseSetCookie('session=; Max-Age=0')!,
      parseSetCookie('app_sid=abc; HttpOnly')!,
    ];
    expect(pickSessionCookie(list)?.name).toBe('app_sid');
    expect(pickSessionCookie([parseSetCookie('session=abc; Path=/')!, ...list])?.name).toBe('session');
  });
});

describe('cross-site', () => {
  it('computes registrable domains and schemeful same-site', () => {
    expect(registrableDomain('app.example.com')).toBe('example.com');
    expect(registrableDomain('api.eu.example.co.uk')).toBe('example.co.uk');
    expect(registrableDomain('front.vercel.app')).toBe('front.vercel.app');
    expect(registrableDomain('127.0.0.1')).toBe('127.0.0.1');
    expect(registrableDomain('localhost')).toBe('localhost');
    expect(isSameSite('https://app.example.com', 'https://api.example.com')).toBe(true);
    expect(isSameSite('https://app.example.com', 'http://app.example.com')).toBe(false);
    expect(isSameSite('https://a.vercel.app', 'https://b.vercel.app')).toBe(false);
    expect(isSameSite('https://app.example.com', 'https://api.example.net')).toBe(false);
  });

  it('needs SameSite=None; Secure only when the client and the API are cross-site', () => {
    const sameSite = {
      CLIENT_URL: 'https://app.example.com',
      VITE_API_URL: 'https://api.example.com',
      NODE_ENV: 'production',
    };
    expect(decideCrossSite(sameSite).status).toBe('pass');
    const cross = {
      CLIENT_URL: 'https://app.example.com',
      VITE_API_URL: 'https://api.other.net',
      NODE_ENV: 'production',
    };
    const lax = decideCrossSite(cross);
    expect(lax.status).toBe('fail');
    expect(lax.summary.en).toContain('needs SameSite=None; Secure');
    expect(decideCrossSite({ ...cross, COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'true' }).status).toBe('pass');
    // The missing Secure is login.cookie_flags' failure; here it only warns.
    expect(decideCrossSite({ ...cross, COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'false' }).status).toBe(
      'warn',
    );
    expect(decideCrossSite({ CLIENT_URL: 'https://app.example.com' }).status).toBe('skip');
  });
});

describe('login.cors', () => {
  const client = 'https://app.example.com';
  it('passes exactly the client origin with credentials and a refused foreign origin', () => {
    const d = decideCors(
      client,
      { ok: true, status: 204, allowOrigin: client, allowCredentials: 'true' },
      { ok: true, status: 204 },
    );
    expect(d.status).toBe('pass');
  });

  it('fails a foreign origin echoed back, a wildcard, a wrong origin and missing credentials', () => {
    const echo = decideCors(
      client,
      { ok: true, status: 204, allowOrigin: client, allowCredentials: 'true' },
      { ok: true, status: 204, allowOrigin: FOREIGN_ORIGIN, allowCredentials: 'true' },
    );
    expect(echo.status).toBe('fail');
    expect(echo.summary.en).toContain(`${FOREIGN_ORIGIN} is allowed`);
    expect(
      decideCors(
        client,
        { ok: true, status: 204, allowOrigin: '*' },
        { ok: true, status: 204, allowOrigin: '*' },
      ).status,
    ).toBe('fail');
    const wrong = decideCors(
      client,
      { ok: true, status: 204, allowOrigin: 'https://other.example.com' },
      { ok: true, status: 204 },
    );
    expect(wrong.summary.en).toContain('instead of exactly that origin');
    expect(wrong.summary.en).toContain('Access-Control-Allow-Credentials is missing');
    expect(
      decideCors(client, { ok: false, error: 'ECONNREFUSED' }, { ok: false, error: 'ECONNREFUSED' }).status,
    ).toBe('fail');
    expect(decideCors(undefined, undefined, { ok: true, status: 204 }).status).toBe('pass');
  });
});

const cookie = (line: string): ParsedSetCookie => parseSetCookie(line)!;
const answer = (over: Partial<Extract<LoginObservation, { outcome: 'answer' }>> = {}): LoginObservation => {
  const session = cookie('session=abcdefgh; Path=/; HttpOnly; SameSite=Lax; Secure');
  return {
    outcome: 'answer',
    via: 'proxy',
    url: 'http://127.0.0.1:1/api/trpc/auth.login',
    status: 200,
    cookies: [session],
    session,
    me: { status: 200 },
    ...over,
  };
};
const trusted = { envRead: true, envValue: '1', healthz: true };
const untrusted = { envRead: true };
const NO_COOKIE_SUMMARY =
  'login returned 200 without Set-Cookie: TRUST_PROXY is unset, so the app sees http and will not send a Secure cookie';

describe('login.trust_proxy and login.set_cookie', () => {
  it('passes a correct cookie accepted by auth.me', () => {
    expect(decideTrustProxy(trusted, answer()).status).toBe('pass');
    const d = decideSetCookie(answer(), { trust: trusted, publicHost: 'app.example.com' });
    expect(d.status).toBe('pass');
    expect(d.summary.en).toContain('Path=/; HttpOnly; SameSite=Lax; Secure');
    expect(JSON.stringify(d)).not.toContain('abcdefgh');
  });

  it('names TRUST_PROXY when the login answers 200 without a cookie', () => {
    const login = answer({ cookies: [], session: undefined, me: undefined });
    const tp = decideTrustProxy(untrusted, login);
    expect(tp.status).toBe('fail');
    expect(tp.summary.en).toBe(NO_COOKIE_SUMMARY);
    expect(tp.mitigation?.es).toContain('corregir `TRUST_PROXY`, `COOKIE_SECURE`, URL HTTPS');
    const sc = decideSetCookie(login, { trust: untrusted });
    expect(sc.status).toBe('fail');
    expect(sc.summary.en).toBe(NO_COOKIE_SUMMARY);
    // With TRUST_PROXY=1 the likely cause is elsewhere.
    const other = decideSetCookie(login, { trust: trusted });
    expect(other.status).toBe('fail');
    expect(other.summary.en).toContain('although TRUST_PROXY=1');
    expect(decideTrustProxy({ envRead: true, envValue: '0' }, login).summary.en).toContain(
      'TRUST_PROXY is "0"',
    );
    expect(
      decideTrustProxy({ envRead: true, envValue: '1', healthz: false }, undefined).summary.en,
    ).toContain('not restarted');
    expect(decideTrustProxy({ envRead: false }, undefined).status).toBe('skip');
    // What apps accept as "trust the proxy": 1/true, a hop count, an address list.
    for (const v of ['1', 'true', 'TRUE', '2', '10.0.0.0/8,127.0.0.1'])
      expect(isTrustProxyOn(v), v).toBe(true);
    for (const v of [undefined, '', '0', 'false', 'off']) expect(isTrustProxyOn(v), String(v)).toBe(false);
  });

  it('checks Secure, HttpOnly, Path, Domain, SameSite for cross-site, and auth.me', () => {
    const none = cookie('session=abcdefgh; Path=/; HttpOnly; SameSite=None');
    const d = decideSetCookie(answer({ cookies: [none], session: none }), { trust: trusted });
    expect(d.status).toBe('fail');
    expect(d.summary.en).toContain('SameSite=None without Secure');
    const bad = cookie('session=abcdefgh; Path=/auth; SameSite=Lax; Secure; Domain=other.com');
    const b = decideSetCookie(answer({ cookies: [bad], session: bad }), {
      trust: trusted,
      publicHost: 'api.example.com',
      crossSite: true,
    });
    expect(b.summary.en).toContain('no HttpOnly');
    expect(b.summary.en).toContain('Path=/auth does not cover /api/trpc/auth.me');
    expect(b.summary.en).toContain('Domain=other.com does not match the public host api.example.com');
    expect(b.summary.en).toContain('while client and API are cross-site');
    const refused = decideSetCookie(answer({ me: { status: 401 } }), { trust: trusted });
    expect(refused.status).toBe('fail');
    expect(refused.summary.en).toContain('auth.me with the new cookie answered 401');
    expect(refused.mitigation?.es).toContain('rotar sesión');
    const defaultPath = cookie('session=abcdefgh; HttpOnly; SameSite=Lax; Secure');
    expect(
      decideSetCookie(answer({ cookies: [defaultPath], session: defaultPath }), { trust: trusted }).status,
    ).toBe('warn');
  });

  it("reads the app's code from a tRPC error answer", () => {
    const body = (data: Record<string, unknown>) =>
      JSON.stringify({ error: { message: 'x', code: -32003, data } });
    expect(appCodeOf(body({ code: 'FORBIDDEN', httpStatus: 403, appCode: 'TENANT_BILLING_LOCKED' }))).toBe(
      'TENANT_BILLING_LOCKED',
    );
    expect(appCodeOf('{"error":{"message":"TENANT_SUSPENDED","data":{"code":"FORBIDDEN"}}}')).toBe(
      'TENANT_SUSPENDED',
    );
    expect(appCodeOf(body({ code: 'UNAUTHORIZED', httpStatus: 401 }))).toBe('UNAUTHORIZED');
    expect(appCodeOf('<html>502</html>')).toBeUndefined();
  });

  it('leaves a suspended tenant to login.tenant and reports other refusals', () => {
    const suspended = answer({
      status: 403,
      cookies: [],
      session: undefined,
      appCode: 'TENANT_SUSPENDED',
      me: undefined,
    });
    const d = decideSetCookie(suspended, { trust: trusted });
    expect(d.status).toBe('skip');
    expect(d.summary.en).toContain('see login.tenant');
    expect(
      decideSetCookie(answer({ status: 401, session: undefined, cookies: [] }), { trust: trusted }).summary
        .en,
    ).toContain('check targets.login');
    expect(
      decideSetCookie({ outcome: 'error', via: 'proxy', url: 'x', error: 'ECONNREFUSED' }, { trust: trusted })
        .status,
    ).toBe('fail');
    expect(decideSetCookie(undefined, { trust: trusted }).status).toBe('skip');
  });
});

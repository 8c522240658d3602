/**
 * The HTTP probe of the playbooks: one request with a short timeout, no redirects followed, every header kept as
 * sent (several `Set-Cookie` lines stay several), and a `Set-Cookie` parser that keeps the cookie's attributes and
 * only the *length* of its value — a session cookie is a credential and never enters a finding.
 *
 * node:http is used rather than fetch: fetch refuses to send some headers a probe needs (`Origin` on a
 * preflight, `Host`), follows redirects by default and merges `Set-Cookie` lines.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpProbeRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds for the whole exchange (connect + answer); default 2000. */
  timeoutMs?: number;
  /** Largest body kept, in bytes (default 256 KiB); the rest is dropped. */
  maxBodyBytes?: number;
  /** Aborts the request (the runner's per-check timeout). */
  signal?: AbortSignal;
}

export interface HttpProbeResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", " except set-cookie (see `setCookies`). */
  headers: Record<string, string>;
  setCookies: string[];
  body: string;
  durationMs: number;
}

/** Why a request got no answer: a sentence without the URL's credentials. */
export class HttpProbeError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'HttpProbeError';
  }
}

/** Sends one request. Resolves with any HTTP answer (4xx/5xx included); rejects with HttpProbeError when there is
 *  none (refused, reset, timeout, bad URL). */
export function httpProbe(url: string, req: HttpProbeRequest = {}): Promise<HttpProbeResponse> {
  const started = performance.now();
  const timeoutMs = req.timeoutMs ?? 2000;
  const maxBody = req.maxBodyBytes ?? 256 * 1024;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new HttpProbeError('not a valid URL', 'EINVALIDURL'));
  }
  const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new HttpProbeError(`unsupported scheme ${target.protocol}`, 'ESCHEME'));
  const where = `${target.protocol}//${target.host}`;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] ??= String(Buffer.byteLength(req.body));
    const request = client.request(target, { method: req.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < maxBody) chunks.push(c.subarray(0, maxBody - size));
        size += c.length;
      });
      res.on('error', (err) => fail(err));
      res.on('end', () => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (name === 'set-cookie' || value === undefined) continue;
          out[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: out,
          setCookies: res.headers['set-cookie'] ?? [],
          body: Buffer.concat(chunks).toString('utf8'),
          durationMs: Math.round(performance.now() - started),
        });
      });
    });
    const onAbort = () => fail(new HttpProbeError(`${where}: request aborted`, 'EABORTED'));
    const fail = (err: Error & { code?: string }) => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      request.destroy();
      reject(
        err instanceof HttpProbeError
          ? err
          : new HttpProbeError(`${where}: ${err.code ?? 'error'} ${err.message}`.trim(), err.code ?? 'ERROR'),
      );
    };
    const timer = setTimeout(
      () => fail(new HttpProbeError(`${where}: no answer within ${timeoutMs} ms`, 'ETIMEDOUT')),
      timeoutMs,
    );
    request.on('error', fail);
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    request.end(req.body);
  });
}

/** The JSON body of an answer, or undefined when it is not JSON. */
export function jsonBody(res: HttpProbeResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    return undefined;
  }
}

/** One `Set-Cookie` line, without its value. */
export interface ParsedSetCookie {
  name: string;
  /** Length of the value in characters; the value itself is never kept. */
  valueLength: number;
  path?: string;
  domain?: string;
  /** As written (`Lax`, `None`…), or undefined when the attribute is absent. */
  sameSite?: string;
  secure: boolean;
  httpOnly: boolean;
  maxAge?: number;
  expires?: string;
  /** Attribute names this parser does not know (Partitioned, Priority…). */
  other: string[];
}

/** Parses one `Set-Cookie` header line (RFC 6265 §5.2: attribute names case-insensitive; the last one wins). */
export function parseSetCookie(line: string): ParsedSetCookie | undefined {
  const [pair = '', ...attrs] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const name = pair.slice(0, eq).trim();
  if (!name) return undefined;
  const out: ParsedSetCookie = {
    name,
    valueLength: pair.slice(eq + 1).trim().length,
    secure: false,
    httpOnly: false,
    other: [],
  };
  for (const raw of attrs) {
    const i = raw.indexOf('=');
    const key = (i < 0 ? raw : raw.slice(0, i)).trim().toLowerCase();
    const value = i < 0 ? '' : raw.slice(i + 1).trim();
    if (!key) continue;
    if (key === 'path') out.path = value;
    else if (key === 'domain') out.domain = value;
    else if (key === 'samesite') out.sameSite = value;
    else if (key === 'secure') out.secure = true;
    else if (key === 'httponly') out.httpOnly = true;
    else if (key === 'max-age' && /^-?\d+$/.test(value)) out.maxAge = Number(value);
    else if (key === 'expires') out.expires = value;
    else out.other.push(key);
  }
  return out;
}

/** The `name=value` pair of a `Set-Cookie` line, to send the cookie back (`Cookie:` header). Stays in memory:
 *  callers must not put it in a finding. */
export function cookiePair(line: string): string {
  return (line.split(';')[0] ?? '').trim();
}

/** RFC 6265 §5.1.4 default-path of a request path: the cookie's path when Path is absent. */
export function defaultCookiePath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match. */
export function cookiePathMatches(cookiePath: string, requestPath: string): boolean {
  if (cookiePath === requestPath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** RFC 6265 §5.1.3 domain-match of a Domain attribute (leading dot ignored) against a host. */
export function cookieDomainMatches(domainAttr: string, host: string): boolean {
  const domain = domainAttr.replace(/^\./, '').toLowerCase();
  const h = host.toLowerCase();
  if (h === domain) return true;
  if (/^[\d.]+$/.test(h) || h.includes(':')) return false; // IP addresses match only exactly
  return h.endsWith(`.${domain}`);
}

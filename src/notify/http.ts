/**
 * The one HTTP call the HTTP-based channels make (Slack, GitHub, webhook): a request with a timeout whose every
 * outcome becomes a DeliveryResult-shaped answer. Secrets (a Slack webhook URL is itself a credential) never reach
 * `detail`: callers pass them in `redact` and every detail is scrubbed before it is returned.
 */
import { request } from 'undici';
import type { DeliveryResult } from './channel.js';

export interface HttpCall {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/** Response headers by case-insensitive name (the WHATWG `Headers` has this shape too). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export type HttpOutcome =
  | { kind: 'response'; status: number; headers: ResponseHeaders; text: string }
  | { kind: 'network'; detail: string };

/** Provider error bodies are short; what is read is capped so a misbehaving peer cannot flood memory. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Performs a request; never throws (a network failure or timeout is an outcome). undici's `request` rather than
 * `fetch`: every page is one call, and fetch's web streams cost ~4× the CPU per request (measured under load).
 * Redirects are not followed: a webhook that redirects is answered as its 3xx.
 */
export async function httpCall(call: HttpCall): Promise<HttpOutcome> {
  try {
    const response = await request(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal: AbortSignal.timeout(call.timeoutMs),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_BODY_BYTES) {
        response.body.destroy();
        break;
      }
    }
    const text = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
    return { kind: 'response', status: response.statusCode, headers: headerReader(response.headers), text };
  } catch (err) {
    return { kind: 'network', detail: networkDetail(err, call.timeoutMs) };
  }
}

function headerReader(headers: Record<string, string | string[] | undefined>): ResponseHeaders {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

function networkDetail(err: unknown, timeoutMs: number): string {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  // Socket errors carry their reason as a code (ECONNREFUSED, ENOTFOUND, …), sometimes on a wrapped cause.
  const code = e.code ?? e.cause?.code;
  return code ? `network error ${code}` : `network error: ${e.cause?.message ?? e.message ?? String(err)}`;
}

/** Whether an HTTP status is worth retrying: rate limits, timeouts and server errors. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * How long a provider asked us to wait, in ms: `Retry-After` (seconds or an HTTP date), or a rate-limit reset
 * (`x-ratelimit-remaining: 0` with `x-ratelimit-reset` in epoch seconds, as GitHub sends). Reset instants are the
 * provider's real time, so they are compared with this machine's real clock. Undefined when it said nothing.
 */
export function retryAfterMs(headers: ResponseHeaders, nowMs: number = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - nowMs);
  }
  if (headers.get('x-ratelimit-remaining')?.trim() === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - nowMs);
  }
  return undefined;
}

/** A short, single-line excerpt of a provider's answer for the timeline. */
export function shortBody(text: string, max = 160): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/** Removes every occurrence of the given secrets (and their URL-encoded forms) from a detail line. */
export function redact(detail: string, secrets: (string | undefined)[]): string {
  let out = detail;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)]))
      out = out.replaceAll(form, '[redacted]');
  }
  return out;
}

/**
 * A URL that is itself a credential (a Slack webhook's secret is its path) and its parts that a provider might
 * echo back: the whole URL, the path with its query, the path, the query.
 */
export function urlSecrets(raw: string): string[] {
  try {
    const url = new URL(raw);
    return [raw, url.href, `${url.pathname}${url.search}`, url.pathname, url.search].filter(
      (p) => p.length > 1,
    );
  } catch {
    return [raw];
  }
}

/** A failed result whose detail is scrubbed of secrets. */
export function failure(
  retryable: boolean,
  detail: string,
  secrets: (string | undefined)[],
  status?: number,
): DeliveryResult {
  return {
    ok: false,
    retryable,
    ...(status === undefined ? {} : { status }),
    detail: redact(detail, secrets),
  };
}

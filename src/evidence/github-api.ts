/**
 * A small GitHub REST client for the evidence collectors: the documented headers, `Link: rel="next"` pagination,
 * rate-limit waits and retries of server errors.
 *
 * What GitHub documents (docs.github.com/rest/using-the-rest-api/…):
 *   - every request: `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`, and
 *     `Authorization: Bearer <token>` when there is a token;
 *   - pagination: a `Link` header with `<url>; rel="next"` while there are more pages (the URL is absolute, so a
 *     GitHub Enterprise base like https://ghe.example.com/api/v3 is followed as is);
 *   - rate limits: 403 or 429 with `retry-after: <seconds>`, or with `x-ratelimit-remaining: 0` and
 *     `x-ratelimit-reset: <epoch seconds>`; a secondary limit without either header means "wait a minute".
 * Waits are bounded by `maxWaitMs`: a longer one stops the collection with "rate limited until …" rather than
 * hanging a CI job. 5xx answers and network failures are retried with exponential backoff.
 *
 * Rate-limit resets are compared with this machine's real clock (they are real instants GitHub chose), never with
 * the injected business clock.
 */
import { GuardiaError } from '../shared/errors.js';

export interface GitHubClientOptions {
  token?: string;
  fetch?: typeof fetch;
  /** The longest rate-limit wait accepted before giving up (default 60 s). */
  maxWaitMs?: number;
  /** Retries of a 5xx answer or network failure (default 3). */
  retries?: number;
  /** First backoff before retrying a 5xx (doubles each time; default 1 s). */
  backoffMs?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  progress?: (message: string) => void;
}

/** Thrown when GitHub asks for a wait longer than `maxWaitMs`. */
export class RateLimitedError extends GuardiaError {
  constructor(readonly until: string) {
    super('rate_limited', `GitHub API rate limited until ${until}; run again after that time`, { until });
  }
}

export interface GitHubPage<T> {
  body: T;
  next: string | null;
}

const SECONDARY_LIMIT_WAIT_MS = 60_000;
/** A guard against a server that keeps answering "rate limited" with tiny waits. */
const MAX_RATE_LIMIT_ROUNDS = 10;

/** The `rel="next"` URL of a `Link` header, if any. */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    if (match && /\brel="?next"?/.test(match[2] ?? '')) return match[1] ?? null;
  }
  return null;
}

/**
 * How long a 403/429 asks us to wait, or null when it is not a rate limit (a plain "forbidden").
 * `body` is used only to spot a secondary rate limit that carries no header.
 */
export function rateLimitWaitMs(headers: Headers, body: string, nowMs: number): number | null {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter) * 1000;
  if (headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'));
    return Number.isFinite(reset) ? Math.max(0, reset * 1000 - nowMs) : SECONDARY_LIMIT_WAIT_MS;
  }
  if (/rate limit/i.test(body)) return SECONDARY_LIMIT_WAIT_MS;
  return null;
}

export class GitHubClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: GitHubClientOptions = {}) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** GETs one page (JSON) and returns it with the next page's URL. */
  async get<T>(url: string): Promise<GitHubPage<T>> {
    const { retries = 3, backoffMs = 1000, maxWaitMs = 60_000, timeoutMs = 30_000 } = this.options;
    let failures = 0;
    let limited = 0;
    for (;;) {
      let response: Response;
      try {
        response = await this.fetch(url, {
          headers: this.headers(),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        if (failures++ < retries) {
          await this.backoff(backoffMs, failures, `network error (${errorText(err)})`);
          continue;
        }
        throw new GuardiaError(
          'upstream_error',
          `GitHub API unreachable at ${redact(url)}: ${errorText(err)}`,
        );
      }
      if (response.ok) {
        const text = await response.text();
        try {
          return { body: JSON.parse(text) as T, next: nextLink(response.headers.get('link')) };
        } catch {
          throw new GuardiaError(
            'upstream_error',
            `GitHub API answered ${redact(url)} with a body that is not JSON`,
          );
        }
      }
      const text = await response.text().catch(() => '');
      if (response.status === 403 || response.status === 429) {
        const wait = rateLimitWaitMs(response.headers, text, Date.now());
        if (wait !== null) {
          const until = new Date(Date.now() + wait).toISOString();
          if (wait > maxWaitMs || ++limited > MAX_RATE_LIMIT_ROUNDS) throw new RateLimitedError(until);
          this.options.progress?.(`GitHub rate limit: waiting ${Math.ceil(wait / 1000)} s (until ${until})`);
          await this.sleep(wait);
          continue;
        }
      }
      if (response.status >= 500 && failures++ < retries) {
        await this.backoff(backoffMs, failures, `GitHub answered ${response.status}`);
        continue;
      }
      throw httpError(response.status, url, text);
    }
  }

  private headers(): Record<string, string> {
    return {
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'guardia-evidence',
      ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
    };
  }

  private async backoff(baseMs: number, attempt: number, why: string): Promise<void> {
    const ms = baseMs * 2 ** (attempt - 1);
    this.options.progress?.(`${why}; retrying in ${ms} ms`);
    await this.sleep(ms);
  }
}

function httpError(status: number, url: string, body: string): GuardiaError {
  const message = githubMessage(body);
  const hint =
    status === 401
      ? 'the token is missing, expired or wrong (policy github.token)'
      : status === 403
        ? 'the token lacks permission (it needs "actions: read" on the repository)'
        : status === 404
          ? 'not found, or the token cannot see this repository'
          : 'GitHub failed';
  return new GuardiaError(
    'upstream_error',
    `GitHub API ${status} for ${redact(url)}: ${hint}${message ? ` ("${message}")` : ''}`,
    { status, url: redact(url) },
  );
}

function githubMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

/** URLs never carry credentials here, but strip any userinfo anyway before printing. */
function redact(url: string): string {
  return url.replace(/\/\/[^/@]+@/, '//');
}

function errorText(err: unknown): string {
  const e = err as { cause?: { code?: string }; message?: string };
  return e.cause?.code ?? e.message ?? String(err);
}

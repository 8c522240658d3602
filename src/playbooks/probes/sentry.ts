/**
 * Sentry's "Query Discover/Explore events in table format" API, the one the runbook's "correlate X-Request-Id with
 * the stack trace" needs: `GET {apiUrl}/api/0/organizations/{org}/events/?field=…&query=request_id:{id}` with
 * `Authorization: Bearer <token>`. The answer is `{ data: [row…], meta: { fields: {name: type}, units } }`, each
 * row keyed by the requested `field` names exactly.
 */
import { httpProbe, HttpProbeError, jsonBody } from './http.js';

export interface SentryTarget {
  apiUrl: string;
  org: string;
  token?: string;
}

/** The fields asked for (at most 20 per request). */
export const SENTRY_EVENT_FIELDS = [
  'id',
  'title',
  'timestamp',
  'project',
  'issue',
  'culprit',
  'error.type',
  'error.value',
  'transaction',
  'environment',
  'release',
] as const;

export type SentryEventRow = Partial<Record<(typeof SENTRY_EVENT_FIELDS)[number], unknown>> &
  Record<string, unknown>;

export type SentryLookup =
  | { outcome: 'found'; events: SentryEventRow[]; url: string }
  | { outcome: 'none'; url: string }
  | { outcome: 'error'; status?: number; message: string; url: string };

/** Sentry search syntax: quote a value that has spaces, quotes or colons. */
export function sentryQueryValue(value: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The request URL (without the token) for a request-id lookup. */
export function sentryEventsUrl(target: SentryTarget, requestId: string, statsPeriod = '14d'): string {
  const url = new URL(
    `${target.apiUrl.replace(/\/+$/, '')}/api/0/organizations/${encodeURIComponent(target.org)}/events/`,
  );
  for (const f of SENTRY_EVENT_FIELDS) url.searchParams.append('field', f);
  url.searchParams.set('query', `request_id:${sentryQueryValue(requestId)}`);
  url.searchParams.set('statsPeriod', statsPeriod);
  url.searchParams.set('sort', '-timestamp');
  url.searchParams.set('per_page', '10');
  url.searchParams.set('dataset', 'errors');
  return url.toString();
}

/** Looks the request id up in Sentry. The target must carry a token (callers skip otherwise). */
export async function findSentryEvents(
  target: SentryTarget & { token: string },
  requestId: string,
  timeoutMs = 3000,
): Promise<SentryLookup> {
  const url = sentryEventsUrl(target, requestId);
  try {
    const res = await httpProbe(url, {
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json' },
      timeoutMs,
    });
    const body = jsonBody(res) as { data?: unknown; detail?: unknown } | undefined;
    if (res.status !== 200) {
      const detail = typeof body?.detail === 'string' ? body.detail : res.body.slice(0, 200);
      return {
        outcome: 'error',
        status: res.status,
        message: `Sentry answered ${res.status}: ${detail}`,
        url,
      };
    }
    if (!body || !Array.isArray(body.data))
      return {
        outcome: 'error',
        status: res.status,
        message: 'Sentry answered 200 without a data array',
        url,
      };
    const events = body.data.filter((r): r is SentryEventRow => !!r && typeof r === 'object');
    return events.length ? { outcome: 'found', events, url } : { outcome: 'none', url };
  } catch (err) {
    return { outcome: 'error', message: err instanceof HttpProbeError ? err.message : String(err), url };
  }
}

/**
 * A local Sentry stand-in for the Discover/Explore events API (`GET /api/0/organizations/{org}/events/`), on the
 * HTTP sink: bearer-token check, `field` params required (at most 20), `query` in Sentry's search syntax
 * (`key:value`, `key:"quoted value"`, free text matched against the title), `sort`, `per_page`, and the documented
 * answer `{ data: [row keyed by the requested fields], meta: { fields: {name: type}, units: {name: null} } }` with a
 * `Link` header. Errors answer `{ detail }` like sentry.io. Seed it with events; tags are searchable by key.
 */
import { startHttpSink, type HttpSink, type SinkRequest } from './sinks.js';

export interface StandInSentryEvent {
  id: string;
  title: string;
  /** ISO time. */
  timestamp: string;
  project: string;
  /** The issue's short id, e.g. REFAPP-1A. */
  issue: string;
  culprit?: string;
  'error.type'?: string[];
  'error.value'?: string[];
  transaction?: string;
  environment?: string;
  release?: string | null;
  /** Searchable as `key:value` (request_id, tenant…). */
  tags: Record<string, string>;
}

export interface SentryStandIn {
  /** Base URL to put in playbooks.targets.sentry.api_url (the API lives under /api/0). */
  url: string;
  org: string;
  token: string;
  sink: HttpSink;
  events: StandInSentryEvent[];
  close(): Promise<void>;
}

const FIELD_TYPES: Record<string, string> = {
  id: 'string',
  title: 'string',
  timestamp: 'date',
  project: 'string',
  issue: 'string',
  culprit: 'string',
  'error.type': 'array',
  'error.value': 'array',
  transaction: 'string',
  environment: 'string',
  release: 'string',
};

/** Sentry search syntax, the subset the stand-in understands: `key:value`, `key:"a b"`, free words. */
export function parseSentryQuery(query: string): { filters: [string, string][]; text: string[] } {
  const filters: [string, string][] = [];
  const text: string[] = [];
  const re = /\s*([A-Za-z0-9_.[\]-]+):(?:"((?:[^"\\]|\\.)*)"|(\S+))|\s*(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(query))) {
    if (m[1]) filters.push([m[1], m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '')]);
    else if (m[4]) text.push(m[4]);
  }
  return { filters, text };
}

function valueOf(e: StandInSentryEvent, key: string): unknown {
  const tag = /^tags?\[(.+)\]$/.exec(key)?.[1] ?? key;
  if (tag in e.tags) return e.tags[tag];
  return (e as unknown as Record<string, unknown>)[key];
}

export async function startSentryStandIn(
  options: { org?: string; token?: string; events?: StandInSentryEvent[] } = {},
): Promise<SentryStandIn> {
  const sink = await startHttpSink();
  const org = options.org ?? 'acme';
  const token = options.token ?? 'sntrys_standin_token_0123456789abcdef';
  const standIn: SentryStandIn = {
    url: sink.url,
    org,
    token,
    sink,
    events: [...(options.events ?? [])],
    close: () => sink.close(),
  };
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  sink.respond = (req: SinkRequest) => {
    const url = new URL(req.url, sink.url);
    const auth = req.headers.authorization;
    if (!auth) return json(401, { detail: 'Authentication credentials were not provided.' });
    if (auth !== `Bearer ${token}`) return json(401, { detail: 'Invalid token' });
    const match = /^\/api\/0\/organizations\/([^/]+)\/events\/$/.exec(url.pathname);
    if (req.method !== 'GET' || !match || decodeURIComponent(match[1]!) !== org)
      return json(404, { detail: 'The requested resource does not exist' });
    const fields = url.searchParams.getAll('field');
    if (!fields.length) return json(400, { detail: 'No columns selected' });
    if (fields.length > 20) return json(400, { detail: 'You can view up to 20 fields at a time.' });
    const { filters, text } = parseSentryQuery(url.searchParams.get('query') ?? '');
    let rows = standIn.events.filter(
      (e) =>
        filters.every(([k, v]) => {
          const have = valueOf(e, k);
          return Array.isArray(have) ? have.includes(v) : have !== undefined && String(have) === v;
        }) && text.every((w) => e.title.toLowerCase().includes(w.toLowerCase())),
    );
    const sort = url.searchParams.get('sort');
    if (sort === '-timestamp' || sort === 'timestamp')
      rows = [...rows].sort(
        (a, b) => (sort === '-timestamp' ? -1 : 1) * a.timestamp.localeCompare(b.timestamp),
      );
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? '50') || 50);
    const page = rows.slice(0, perPage);
    const data = page.map((e) => Object.fromEntries(fields.map((f) => [f, valueOf(e, f) ?? null])));
    const meta = {
      fields: Object.fromEntries(fields.map((f) => [f, FIELD_TYPES[f] ?? 'string'])),
      units: Object.fromEntries(fields.map((f) => [f, null])),
    };
    const cursorBase = `${sink.url}${url.pathname}`;
    const link =
      `<${cursorBase}?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", ` +
      `<${cursorBase}?cursor=0:${perPage}:0>; rel="next"; results="${rows.length > perPage}"; cursor="0:${perPage}:0"`;
    return json(200, { data, meta }, { link });
  };
  return standIn;
}

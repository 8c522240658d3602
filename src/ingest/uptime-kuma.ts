/**
 * Uptime Kuma "Webhook" notification (louislam/uptime-kuma, server/notification-providers/webhook.js;
 * heartbeat shape from server/model/heartbeat.js toJSONAsync, v2.x).
 *
 * What Kuma sends: `POST { heartbeat, monitor, msg }` when a monitor changes state ("important" heartbeats only).
 *   - Content type "JSON" (default): that object as the body.
 *   - Content type "form-data": multipart/form-data with one field `data` = the same object as a JSON string.
 *   - Content type "custom" (a user template) and the GET method are not understood: use JSON or form-data.
 *   - The notification's "Test" button sends `heartbeat: null, monitor: null, msg: "<name> Testing"`.
 *
 * Authentication: Kuma does not sign. Add `{"Authorization": "Bearer <UPTIME_KUMA_TOKEN>"}` under
 * "Additional Headers" (or put `?token=<UPTIME_KUMA_TOKEN>` in the URL); checked before the body is read.
 *
 * Mapping:
 *   heartbeat.status 0 DOWN → trigger; 1 UP → resolve; 2 PENDING (Kuma is still retrying) and 3 MAINTENANCE
 *     (a planned window) → no alert: neither means "down" nor "recovered", so nothing is paged or resolved.
 *   heartbeat null → action "test": recorded, no incident, pages no one.
 *   dedup_key    `kuma:{monitor.id}` (one incident per monitor while it is down; `kuma:test` for test messages)
 *   delivery_key `{monitor.id}:{heartbeat.time}:{heartbeat.status}` — a re-sent notification is a duplicate.
 *   severity     Kuma has no severity: null (the policy route decides; the default `uptime` route forces sev1),
 *                unless the integration's `severity_map` maps the word "down".
 *   title        "{monitor.name} down: {heartbeat.msg}"; source = the monitored URL/host; link = the monitored URL.
 *   occurred_at  heartbeat.time (UTC "YYYY-MM-DD HH:mm:ss.SSS").
 */
import { z } from 'zod';
import type { IntegrationPolicy } from '../domain/policy/schema.js';
import { GuardiaError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import {
  authenticateBearer,
  clip,
  header,
  parseJsonBody,
  type InboundRequest,
  type IngestAdapter,
} from './adapter.js';
import type { NormalizedAlert } from './alert.js';
import { mapSeverity } from './severity.js';

/** Kuma's heartbeat statuses (server/util.ts DOWN/UP/PENDING/MAINTENANCE). */
const DOWN = 0;
const UP = 1;
const STATUS_NAMES = ['down', 'up', 'pending', 'maintenance'] as const;

/** Ids are numbers in Kuma's JSON; a digit string (e.g. from a proxy or template) is accepted too. */
const kumaId = z.union(
  [
    z.number().int().nonnegative(),
    z
      .string()
      .trim()
      .regex(/^\d{1,20}$/),
  ],
  {
    error: 'expected a monitor id (a non-negative integer)',
  },
);

const kumaStatus = z
  .union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)], {
    error: 'expected 0 (down), 1 (up), 2 (pending) or 3 (maintenance)',
  })
  .pipe(
    z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)], {
      error: 'expected 0 (down), 1 (up), 2 (pending) or 3 (maintenance)',
    }),
  );

const optionalText = z.string().nullish();

/** The fields used; everything else Kuma sends (~90 monitor keys) is accepted and kept in the raw payload. */
export const kumaNotificationSchema = z.object({
  msg: optionalText,
  heartbeat: z.object({
    monitorID: kumaId.nullish(),
    status: kumaStatus,
    // Bounded: it is part of the delivery key, which is indexed.
    time: z.string().trim().min(1, 'must not be empty').max(64),
    msg: optionalText,
    important: z.boolean().nullish(),
    ping: z.number().nullish(),
    duration: z.number().nullish(),
    retries: z.number().nullish(),
    timezone: optionalText,
    localDateTime: optionalText,
    lastDownTime: optionalText,
  }),
  monitor: z.object({
    id: kumaId,
    name: optionalText,
    pathName: optionalText,
    type: optionalText,
    url: optionalText,
    hostname: optionalText,
    port: z.union([z.number(), z.string()]).nullish(),
    description: optionalText,
  }),
});

/** The Test button's message: only `heartbeat: null` is certain. */
const kumaTestSchema = z.object({ heartbeat: z.null(), msg: optionalText });

export const uptimeKumaAdapter: IngestAdapter = {
  type: 'uptime-kuma',
  description:
    'Uptime Kuma webhook notification (JSON or form-data); Bearer token via Additional Headers or ?token=',
  authenticate: authenticateBearer,
  parse(request, integration) {
    const body = readBody(request);
    const raw = request.rawBody.toString('utf8');
    if (isRecord(body) && body.heartbeat === null) {
      const test = parseOrThrow(kumaTestSchema, body);
      return { alerts: [testAlert(integration, test.msg, raw)] };
    }
    return { alerts: toAlerts(parseOrThrow(kumaNotificationSchema, body), integration, raw) };
  },
};

function toAlerts(
  body: z.output<typeof kumaNotificationSchema>,
  integration: IntegrationPolicy,
  raw: string,
): NormalizedAlert[] {
  const { heartbeat, monitor } = body;
  // PENDING and MAINTENANCE neither open nor close anything (see the header comment).
  if (heartbeat.status !== DOWN && heartbeat.status !== UP) return [];
  const monitorId = String(monitor.id);
  const name = monitor.name?.trim() || `monitor ${monitorId}`;
  const down = heartbeat.status === DOWN;
  const reason = heartbeat.msg?.trim();
  const title = safeText(clip(`${name} ${down ? 'down' : 'up'}${reason ? `: ${reason}` : ''}`));
  const target = monitor.url?.trim() || joinHost(monitor.hostname, monitor.port);
  const links = isHttpUrl(monitor.url)
    ? [{ href: monitor.url.trim(), text: `Monitored URL (${clip(name, 200)})` }]
    : [];
  const alert: NormalizedAlert = {
    integration: integration.name,
    action: down ? 'trigger' : 'resolve',
    dedup_key: `kuma:${monitorId}`,
    title,
    severity: down ? mapSeverity('down', integration, {}) : null,
    source: target ? safeText(clip(target)) : null,
    details: {
      monitor_id: monitor.id,
      monitor_name: clip(name, 1024),
      monitor_path: monitor.pathName ? clip(monitor.pathName, 1024) : undefined,
      monitor_type: monitor.type ? clip(monitor.type, 64) : undefined,
      target: target ? clip(target, 2048) : undefined,
      status: STATUS_NAMES[heartbeat.status],
      message: reason ? clip(reason, 4096) : undefined,
      summary: body.msg ? clip(body.msg, 4096) : undefined,
      heartbeat_time: heartbeat.time,
      ping_ms: heartbeat.ping ?? undefined,
      duration_s: heartbeat.duration ?? undefined,
      retries: heartbeat.retries ?? undefined,
      last_down_time: heartbeat.lastDownTime ? clip(heartbeat.lastDownTime, 64) : undefined,
    },
    links,
    occurred_at: kumaTime(heartbeat.time),
    delivery_key: `${monitorId}:${safeText(heartbeat.time)}:${heartbeat.status}`,
    raw,
  };
  return [alert];
}

function testAlert(
  integration: IntegrationPolicy,
  msg: string | null | undefined,
  raw: string,
): NormalizedAlert {
  return {
    integration: integration.name,
    action: 'test',
    dedup_key: 'kuma:test',
    title: safeText(clip(msg?.trim() || 'Uptime Kuma test notification')),
    severity: null,
    source: null,
    details: { test: true },
    links: [],
    occurred_at: null,
    // Every press of "Test" is recorded.
    delivery_key: null,
    raw,
  };
}

/** JSON by default; Kuma's "form-data" content type wraps the same JSON in a multipart field `data`. */
function readBody(request: InboundRequest): unknown {
  // A NUL byte cannot be stored in a PostgreSQL text column (the raw payload is kept); valid JSON never has one.
  if (request.rawBody.includes(0))
    throw new GuardiaError('invalid_input', 'request body contains a NUL byte');
  const contentType = header(request, 'content-type') ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) return parseJsonBody(request);
  const data = multipartField(request.rawBody, contentType, 'data');
  if (data === undefined) {
    throw new GuardiaError(
      'invalid_input',
      'multipart/form-data body has no field "data"; expected Uptime Kuma\'s form-data webhook (field "data" = JSON)',
    );
  }
  try {
    return JSON.parse(data);
  } catch (err) {
    throw new GuardiaError('invalid_json', `form field "data" is not valid JSON: ${(err as Error).message}`);
  }
}

/** The text of one field of a multipart/form-data body (enough for Kuma's single-field form). */
export function multipartField(raw: Buffer, contentType: string, name: string): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new GuardiaError('invalid_input', 'Content-Type multipart/form-data has no boundary');
  // latin1 maps bytes 1:1 to chars, so the field's bytes are recovered exactly and decoded as UTF-8 afterwards.
  const text = raw.toString('latin1');
  for (const part of text.split(`--${boundary}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const disposition = part.slice(0, headerEnd).match(/content-disposition:[^\r\n]*/i)?.[0] ?? '';
    const fieldName = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (fieldName !== name) continue;
    const value = part.slice(headerEnd + 4).replace(/\r\n$/, '');
    return Buffer.from(value, 'latin1').toString('utf8');
  }
  return undefined;
}

/** Kuma sends UTC as "YYYY-MM-DD HH:mm:ss.SSS" without a zone; anything unparseable → null (receipt time). */
function kumaTime(value: string): Date | null {
  const naive = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(value);
  const date = new Date(naive ? `${naive[1]}T${naive[2]}Z` : value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function joinHost(
  hostname: string | null | undefined,
  port: number | string | null | undefined,
): string | undefined {
  const host = hostname?.trim();
  if (!host) return undefined;
  return port !== null && port !== undefined && String(port) !== '' ? `${host}:${String(port)}` : host;
}

function isHttpUrl(value: string | null | undefined): value is string {
  if (!value) return false;
  const trimmed = value.trim();
  return trimmed.length <= 2048 && /^https?:\/\/\S+$/i.test(trimmed);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Text bound for text columns (title, source, keys): NUL cannot be stored in PostgreSQL, and a lone UTF-16
 * surrogate (sent escaped in JSON, or left by clipping inside a pair) does not survive a round trip through
 * SQLite. Both become U+FFFD: replaced, never refused. Apply after clip().
 */
function safeText(text: string): string {
  return text
    .replaceAll('\u0000', '\uFFFD')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

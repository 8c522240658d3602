/**
 * Better Stack (formerly Better Uptime) "Incident" outgoing webhook
 * (https://betterstack.com/docs/uptime/webhooks/; body in the JSON:API style of the Uptime API's incidents).
 *
 * What Better Stack sends: `POST { event, data: { id, type: "incident", attributes, relationships } }` when an
 * incident is created (`event: "started"`), acknowledged or resolved. Some accounts also report `reopened` and
 * `comment`. `relationships.monitor` (or `.heartbeat`) names the check the incident belongs to.
 *
 * Authentication: no signature and no delivery id are documented. Put the secret in the webhook URL
 * (`/hooks/betterstack?token=<BETTERSTACK_TOKEN>`); `Authorization: Bearer` works too. Checked before parsing.
 *
 * Mapping:
 *   event started (alias created) / reopened → trigger; acknowledged → acknowledge; resolved → resolve.
 *   Any other event (e.g. comment) → no alert, answered 202 with no results: it neither opens nor closes anything.
 *   dedup_key    `betterstack:monitor:{id}` (or `betterstack:heartbeat:{id}`) from relationships, so a monitor's
 *                repeated incidents group while one is open; `betterstack:incident:{data.id}` when the incident
 *                has no monitor (e.g. created by hand or from e-mail). The kind is in the key so monitor 4 and
 *                incident 4 never collide.
 *   delivery_key `{data.id}:{event}:{the event's timestamp}` (started_at / acknowledged_at / resolved_at; a hash of
 *                the body when the event has no timestamp) — a redelivery is a duplicate.
 *   severity     none in the payload: null (the route decides; default sev1), unless `severity_map` maps "down".
 *   title        "{attributes.name}: {attributes.cause}"; source = attributes.url; links = the monitored URL,
 *                the response and screenshot Better Stack captured.
 *   occurred_at  the event's timestamp (started_at for a trigger).
 */
import { z } from 'zod';
import type { IntegrationPolicy } from '../domain/policy/schema.js';
import { GuardiaError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { authenticateBearer, clip, parseJsonBody, shortHash, type IngestAdapter } from './adapter.js';
import type { AlertAction, NormalizedAlert } from './alert.js';
import { mapSeverity } from './severity.js';

const ACTIONS: Record<string, AlertAction> = {
  started: 'trigger',
  created: 'trigger',
  reopened: 'trigger',
  acknowledged: 'acknowledge',
  resolved: 'resolve',
};

/** JSON:API ids are strings; a number is accepted. Bounded: ids go into indexed keys. */
const jsonApiId = z
  .union([z.string(), z.number().int().nonnegative()], { error: 'expected an id (string)' })
  .transform((v) => String(v).trim())
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(128)
      .refine((v) => ![...v].some((c) => c.charCodeAt(0) < 0x20), 'must not contain control characters'),
  );

const relationship = z
  .object({ data: z.object({ id: jsonApiId, type: z.string().nullish() }).nullish() })
  .nullish();
const optionalText = z.string().nullish();

export const betterStackIncidentSchema = z.object({
  event: z.string().trim().min(1, 'must not be empty').max(64),
  data: z.object({
    id: jsonApiId,
    type: z.literal('incident', {
      error: 'expected "incident": this integration takes Better Stack Incident webhooks',
    }),
    attributes: z.object({
      name: z.string(),
      url: optionalText,
      http_method: optionalText,
      cause: optionalText,
      started_at: z.string().max(64),
      acknowledged_at: optionalText,
      acknowledged_by: optionalText,
      resolved_at: optionalText,
      resolved_by: optionalText,
      response_content: optionalText,
      response_url: optionalText,
      screenshot_url: optionalText,
      team_name: optionalText,
    }),
    relationships: z.object({ monitor: relationship, heartbeat: relationship }).nullish(),
  }),
});
export type BetterStackIncident = z.output<typeof betterStackIncidentSchema>;

export const betterStackAdapter: IngestAdapter = {
  type: 'betterstack',
  description: 'Better Stack (Better Uptime) incident webhook; token in the URL (?token=) or Bearer header',
  authenticate: authenticateBearer,
  parse(request, integration) {
    // A NUL byte cannot be stored in a PostgreSQL text column (the raw payload is kept); valid JSON never has one.
    if (request.rawBody.includes(0))
      throw new GuardiaError('invalid_input', 'request body contains a NUL byte');
    const body = parseOrThrow(betterStackIncidentSchema, parseJsonBody(request));
    const alert = toAlert(body, integration, request.rawBody.toString('utf8'));
    return { alerts: alert ? [alert] : [] };
  },
};

function toAlert(
  body: BetterStackIncident,
  integration: IntegrationPolicy,
  raw: string,
): NormalizedAlert | null {
  const event = body.event.toLowerCase();
  const action = Object.hasOwn(ACTIONS, event) ? ACTIONS[event] : undefined;
  // Comments and unknown events neither open nor close an incident (see the header comment).
  if (action === undefined) return null;
  const { id, attributes: a, relationships } = body.data;
  const monitorId = relationships?.monitor?.data?.id;
  const heartbeatId = relationships?.heartbeat?.data?.id;
  const dedupKey =
    monitorId !== undefined
      ? `betterstack:monitor:${monitorId}`
      : heartbeatId !== undefined
        ? `betterstack:heartbeat:${heartbeatId}`
        : `betterstack:incident:${id}`;
  const name = a.name.trim() || `Better Stack incident ${id}`;
  const cause = a.cause?.trim() || undefined;
  const eventTime =
    action === 'acknowledge'
      ? a.acknowledged_at
      : action === 'resolve'
        ? a.resolved_at
        : event === 'reopened'
          ? null
          : a.started_at;
  const stamp = eventTime?.trim() ? eventTime.trim().slice(0, 64) : shortHash(raw);
  const title =
    action === 'trigger'
      ? `${name}${cause ? `: ${cause}` : ''}`
      : `${name} ${action === 'acknowledge' ? 'acknowledged' : 'resolved'} in Better Stack${actor(action, a)}`;
  const links: NormalizedAlert['links'] = [];
  if (isHttpUrl(a.url)) links.push({ href: a.url.trim(), text: `Monitored URL (${clip(name, 200)})` });
  if (isHttpUrl(a.response_url))
    links.push({ href: a.response_url.trim(), text: 'Response captured by Better Stack' });
  if (isHttpUrl(a.screenshot_url)) links.push({ href: a.screenshot_url.trim(), text: 'Screenshot' });
  return {
    integration: integration.name,
    action,
    dedup_key: safeText(dedupKey),
    title: safeText(clip(title)),
    severity: action === 'trigger' ? mapSeverity('down', integration, {}) : null,
    source: a.url?.trim() ? safeText(clip(a.url.trim())) : null,
    details: {
      incident_id: id,
      monitor_id: monitorId,
      heartbeat_id: heartbeatId,
      event,
      name: clip(name),
      cause: cause ? clip(cause, 4096) : undefined,
      url: a.url ? clip(a.url, 2048) : undefined,
      http_method: a.http_method ? clip(a.http_method, 16) : undefined,
      started_at: clip(a.started_at, 64),
      acknowledged_at: a.acknowledged_at ? clip(a.acknowledged_at, 64) : undefined,
      acknowledged_by: a.acknowledged_by ? clip(a.acknowledged_by, 256) : undefined,
      resolved_at: a.resolved_at ? clip(a.resolved_at, 64) : undefined,
      resolved_by: a.resolved_by ? clip(a.resolved_by, 256) : undefined,
      team: a.team_name ? clip(a.team_name, 256) : undefined,
    },
    links,
    occurred_at: toDate(eventTime),
    delivery_key: safeText(`${id}:${event}:${stamp}`),
    raw,
  };
}

function actor(action: AlertAction, a: BetterStackIncident['data']['attributes']): string {
  const who = action === 'acknowledge' ? a.acknowledged_by : a.resolved_by;
  return who?.trim() ? ` by ${clip(who.trim(), 256)}` : '';
}

/** ISO-8601 from Better Stack; an unparseable time is not worth refusing the alert for → null (receipt time). */
function toDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function isHttpUrl(value: string | null | undefined): value is string {
  if (!value) return false;
  const trimmed = value.trim();
  return trimmed.length <= 2048 && /^https?:\/\/\S+$/i.test(trimmed);
}

/**
 * Text bound for text columns (title, source, keys): NUL cannot be stored in PostgreSQL, and a lone UTF-16
 * surrogate (sent escaped in JSON, or left by clipping inside a pair) does not survive a round trip through
 * SQLite. Both become U+FFFD: replaced, never refused. Apply after clip().
 */
function safeText(value: string): string {
  return value
    .replaceAll('\u0000', '\uFFFD')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

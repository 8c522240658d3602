/**
 * UptimeRobot "Webhook" alert contact (https://help.uptimerobot.com/en/articles/14498593-webhook-integration).
 *
 * What UptimeRobot sends: the "POST value" the user writes, with *variables* substituted — so every value is a
 * STRING ("1", "784350743", "" for an empty variable). The documented template for Guardia:
 *   {"monitorID":"*monitorID*","monitorURL":"*monitorURL*","monitorFriendlyName":"*monitorFriendlyName*",
 *    "alertType":"*alertType*","alertTypeFriendlyName":"*alertTypeFriendlyName*","alertDetails":"*alertDetails*",
 *    "alertDuration":"*alertDuration*","alertDateTime":"*alertDateTime*","alertFriendlyDuration":"*alertFriendlyDuration*",
 *    "monitorAlertContacts":"*monitorAlertContacts*","sslExpiryDate":"*sslExpiryDate*","sslExpiryDaysLeft":"*sslExpiryDaysLeft*"}
 * Accepted encodings, so a hand-written contact works too:
 *   - JSON ("Send as JSON", Content-Type application/json); values may be strings or numbers (a template
 *     written without quotes), surrounding whitespace is trimmed;
 *   - application/x-www-form-urlencoded with the same field names (parsed from the raw bytes);
 *   - an empty body with the fields as query parameters of the webhook URL.
 *
 * Authentication: UptimeRobot does not sign. Either a custom header (Team/Enterprise plans) —
 * `X-Webhook-Token: <UPTIMEROBOT_TOKEN>` or `Authorization: Bearer <UPTIMEROBOT_TOKEN>` — or the secret in the
 * URL (`?token=<UPTIMEROBOT_TOKEN>`). Checked before the body is read.
 *
 * Mapping:
 *   alertType 1 (down) → trigger; 2 (up) → resolve.
 *   alertType 3 (SSL certificate / domain expiry reminder) and any other numeric type → no alert: the default
 *     `uptime` route pages every alert of this integration as a sev1 outage, and an expiry reminder is not an
 *     outage (UptimeRobot also emails it to its own contacts). The delivery is answered 202 with no results.
 *   dedup_key    `uptimerobot:{monitorID}`
 *   delivery_key `{monitorID}:{alertType}:{alertDateTime}` — UptimeRobot's retry of the same alert is a duplicate.
 *   severity     none in the payload: null (the route decides; default sev1), unless `severity_map` maps "down".
 *   title        "{monitorFriendlyName} down: {alertDetails}"; source = monitorURL; links = the monitored URL and
 *                the monitor's page on dashboard.uptimerobot.com.
 *   occurred_at  alertDateTime (unix seconds).
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
  safeEqual,
  type InboundRequest,
  type IngestAdapter,
} from './adapter.js';
import type { NormalizedAlert } from './alert.js';
import { mapSeverity } from './severity.js';

const DOWN = '1';
const UP = '2';

/** A substituted variable: a string (or a number if the template left out the quotes), trimmed. */
const text = z
  .union([z.string(), z.number()], { error: 'expected a string' })
  .transform((v) => String(v).trim());

/** A number sent as a string ("784350743", " 1 ", or 1). */
const digits = (what: string, maxLength = 20) =>
  text.pipe(z.string().regex(new RegExp(`^\\d{1,${maxLength}}$`), `expected ${what} (digits, e.g. "1")`));

/** An optional variable: UptimeRobot substitutes "" when it has no value, which means absent. */
const optionalText = text.nullish().transform((v) => (v ? v : undefined));
const optionalDigits = (what: string) =>
  optionalText.pipe(
    z
      .string()
      .regex(/^\d{1,20}$/, `expected ${what} (digits) or ""`)
      .optional(),
  );

export const uptimeRobotSchema = z.object({
  monitorID: digits('the monitor id'),
  monitorURL: optionalText,
  monitorFriendlyName: optionalText,
  alertType: digits('the alert type: 1 down, 2 up, 3 SSL/domain expiry', 4),
  alertTypeFriendlyName: optionalText,
  alertDetails: optionalText,
  alertDuration: optionalDigits('the seconds the monitor was down'),
  alertDateTime: digits('unix seconds'),
  alertFriendlyDuration: optionalText,
  monitorAlertContacts: optionalText,
  sslExpiryDate: optionalText,
  sslExpiryDaysLeft: optionalText,
});
export type UptimeRobotAlert = z.output<typeof uptimeRobotSchema>;

export const uptimeRobotAdapter: IngestAdapter = {
  type: 'uptimerobot',
  description:
    'UptimeRobot webhook alert contact (JSON, form or query fields); X-Webhook-Token, Bearer or ?token=',
  authenticate(request, secret) {
    const custom = header(request, 'x-webhook-token');
    if (custom === undefined) return authenticateBearer(request, secret);
    if (custom.trim() === '')
      throw new GuardiaError(
        'unauthenticated',
        'header X-Webhook-Token is empty; expected the integration token',
      );
    if (!safeEqual(custom.trim(), secret))
      throw new GuardiaError(
        'unauthenticated',
        'header X-Webhook-Token does not match the integration token',
      );
  },
  parse(request, integration) {
    const body = parseOrThrow(uptimeRobotSchema, readFields(request));
    const alert = toAlert(body, integration, request.rawBody.toString('utf8'));
    return { alerts: alert ? [alert] : [] };
  },
};

function toAlert(
  body: UptimeRobotAlert,
  integration: IntegrationPolicy,
  raw: string,
): NormalizedAlert | null {
  const alertType = String(Number(body.alertType)); // "01" → "1"
  // Expiry reminders and unknown types do not page (see the header comment).
  if (alertType !== DOWN && alertType !== UP) return null;
  const down = alertType === DOWN;
  const monitorId = String(BigInt(body.monitorID)); // leading zeros would split one monitor's incidents
  const name = body.monitorFriendlyName ?? `monitor ${monitorId}`;
  const reason = body.alertDetails;
  const links: NormalizedAlert['links'] = [];
  if (isHttpUrl(body.monitorURL))
    links.push({ href: body.monitorURL, text: `Monitored URL (${clip(name, 200)})` });
  links.push({
    href: `https://dashboard.uptimerobot.com/monitors/${monitorId}`,
    text: 'UptimeRobot monitor',
  });
  const seconds = Number(body.alertDateTime);
  const occurred = new Date(seconds * 1000);
  return {
    integration: integration.name,
    action: down ? 'trigger' : 'resolve',
    dedup_key: `uptimerobot:${monitorId}`,
    title: safeText(clip(`${name} ${down ? 'down' : 'up'}${reason ? `: ${reason}` : ''}`)),
    severity: down ? mapSeverity('down', integration, {}) : null,
    source: body.monitorURL ? safeText(clip(body.monitorURL)) : null,
    details: {
      monitor_id: monitorId,
      monitor_name: clip(name),
      monitor_url: body.monitorURL ? clip(body.monitorURL, 2048) : undefined,
      alert_type: alertType,
      alert_type_name: body.alertTypeFriendlyName ? clip(body.alertTypeFriendlyName, 64) : undefined,
      alert_details: reason ? clip(reason, 4096) : undefined,
      down_for_seconds: body.alertDuration !== undefined ? Number(body.alertDuration) : undefined,
      down_for: body.alertFriendlyDuration ? clip(body.alertFriendlyDuration, 256) : undefined,
      alert_time: Number.isNaN(occurred.getTime()) ? undefined : occurred.toISOString(),
    },
    links,
    occurred_at: Number.isNaN(occurred.getTime()) ? null : occurred,
    delivery_key: `${monitorId}:${alertType}:${body.alertDateTime}`,
    raw,
  };
}

/**
 * The fields, whatever the encoding: JSON (Content-Type or a body starting with "{"), form-encoded otherwise,
 * and the URL's query parameters when the body is empty.
 */
function readFields(request: InboundRequest): unknown {
  // A NUL byte cannot be stored in a PostgreSQL text column (the raw payload is kept).
  if (request.rawBody.includes(0))
    throw new GuardiaError('invalid_input', 'request body contains a NUL byte');
  const contentType = (header(request, 'content-type') ?? '').toLowerCase();
  const text = request.rawBody.toString('utf8');
  if (
    contentType.includes('json') ||
    (!contentType.includes('form-urlencoded') && text.trimStart().startsWith('{'))
  ) {
    return parseJsonBody(request);
  }
  if (text.trim() === '') {
    const { token: _token, ...fields } = request.query;
    if (Object.keys(fields).length === 0) {
      throw new GuardiaError(
        'invalid_json',
        'request body is empty; expected UptimeRobot alert fields as JSON, form fields or URL parameters',
      );
    }
    return fields;
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) if (!(key in fields)) fields[key] = value;
  return fields;
}

function isHttpUrl(value: string | undefined): value is string {
  return value !== undefined && value.length <= 2048 && /^https?:\/\/\S+$/i.test(value);
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

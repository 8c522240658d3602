/**
 * Sentry integration-platform webhooks (an internal or public "integration" in Sentry's Developer Settings).
 * Docs: https://docs.sentry.io/organization/integrations/integration-platform/webhooks/ (issues, issue-alerts,
 * metric-alerts, errors pages; getsentry/sentry-docs).
 *
 * What Sentry sends: `POST` JSON `{ action, actor, data: { <resource object> }, installation: { uuid } }` with
 *   Sentry-Hook-Resource   issue | event_alert | metric_alert | error | installation | comment | seer | …
 *   Sentry-Hook-Signature  hex HMAC-SHA256(client secret, raw body)
 *   Sentry-Hook-Timestamp  not signed, so it cannot protect against replays and is not checked
 *   Request-ID             a fresh uuid per attempt, so it cannot serve as an idempotency key
 * Sentry's JSON is ASCII-escaped (`\u00e9`): re-serializing a parsed body would not reproduce the signed bytes,
 * so the signature is verified over `request.rawBody` before anything is parsed.
 *
 * Mapping (DESIGN.md §5):
 *   issue         created, unresolved → trigger; resolved → resolve; assigned/ignored/archived → no alert
 *   event_alert   triggered → trigger (an issue-alert rule fired on an event of the issue)
 *   metric_alert  critical, warning → trigger; resolved → resolve
 *   error         created → trigger (one per error event: high volume, attaches to the issue's incident)
 *   anything else (installation, comment, seer, unknown actions) → 202 with no alert: Sentry disables an
 *   integration whose webhook keeps failing, so a subscription we do not use must never look like an error.
 * Dedup key: `sentry:issue:{issue id}` (event_alert and error carry the issue id of their event, so they group
 * with the issue's own webhooks and with the legacy plugin) or `sentry:metric:{metric_alert.id}` (the id of
 * Sentry's metric-alert incident: a new firing of the rule is a new id).
 * Severity: the issue/event `level` or the metric action word, through the policy's `severity_map`, then
 * SENTRY_DEFAULT_SEVERITIES (fatal/error/critical → sev2, warning/info/debug → sev3).
 * Idempotency (Sentry has no stable delivery id): `delivery_key` = resource:action:id:status plus what tells a
 * genuinely new state apart from a redelivery — see deliveryKey* below.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { IntegrationPolicy, Severity } from '../domain/policy/schema.js';
import { GuardiaError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import {
  clip,
  header,
  parseJsonBody,
  shortHash,
  type IngestAdapter,
  type InboundRequest,
} from './adapter.js';
import type { AlertAction, NormalizedAlert } from './alert.js';
import { mapSeverity } from './severity.js';

/**
 * Default severities for Sentry's words: issue/event `level` (fatal, error, warning, info, debug) and the metric
 * alert action (critical, warning). A policy's `severity_map` on the integration overrides any of them.
 * info/debug are not in DESIGN.md's table; they map to sev3 so an informational issue never pages at the
 * route's default sev2.
 */
export const SENTRY_DEFAULT_SEVERITIES: Record<string, Severity> = {
  fatal: 'sev2',
  error: 'sev2',
  critical: 'sev2',
  warning: 'sev3',
  info: 'sev3',
  debug: 'sev3',
};

/** Control characters (NUL above all: PostgreSQL text cannot hold it) have no place in an id or a key. */
const NO_CONTROL = /^\P{Cc}*$/u;

/** An event id (32 hex characters in practice); bounded because it goes into an indexed delivery key. */
export const sentryEventIdSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128)
  .regex(NO_CONTROL, 'must not contain control characters');

/** Sentry ids are decimal strings ("1170820242"); numbers are accepted too. Bounded: they go into indexed keys. */
export const sentryIdSchema = z
  .union([sentryEventIdSchema, z.number().int().nonnegative()])
  .transform(String);

/** An optional text field: absent, null or a string (of any length — titles are clipped, never refused). */
export const optionalText = z.string().nullish();

/** Event timestamps are float seconds since the epoch. */
const optionalSeconds = z.number().nullish();

/**
 * Turns free text into a one-line title part; empty/whitespace counts as absent. Control characters become
 * spaces: a NUL in a title would make PostgreSQL refuse the row.
 */
export function textOrNull(value: string | null | undefined): string | null {
  const text = value?.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  return text ? text : null;
}

/** `[project] title`, clipped to the 1024 characters an incident title may have. */
export function sentryTitle(project: string | null, title: string): string {
  return clip(project ? `[${project}] ${title}` : title);
}

/** Links to Sentry's pages; anything that is not a plain http(s) URL of sane length is dropped, not refused. */
export function sentryLinks(
  ...links: { href: string | null | undefined; text: string }[]
): NormalizedAlert['links'] {
  const out: NormalizedAlert['links'] = [];
  for (const { href, text } of links) {
    if (!href || href.length > 2048 || !/^https?:\/\//i.test(href)) continue;
    if (out.some((l) => l.href === href)) continue;
    out.push({ href, text });
  }
  return out;
}

/** ISO-8601 text or epoch seconds → Date; anything unparsable → null (the receipt time applies). */
export function sentryDate(iso: string | null | undefined, seconds?: number | null): Date | null {
  if (iso) {
    const date = new Date(iso);
    if (!Number.isNaN(date.getTime())) return date;
  }
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0) {
    const date = new Date(seconds * 1000);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return null;
}

/**
 * A bounded piece of a delivery key: short printable values verbatim (readable), anything else hashed (the key
 * goes into an indexed text column, which must not get 100 KB or a NUL).
 */
export function keyPart(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  const text = String(value);
  return /^[\x21-\x7e]{1,64}$/.test(text) ? text : shortHash(text);
}

/** The value at `path` in parsed JSON (the parsed schemas drop the fields they do not name). */
export function rawAt(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Keeps the simple (string/number/boolean) values of `source` under `keys`, strings clipped, for an alert's
 * details. Lenient on purpose: a field of an unexpected type is left out rather than refusing the webhook.
 */
export function pickDetails(source: unknown, keys: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (source === null || typeof source !== 'object') return out;
  const record = source as Record<string, unknown>;
  for (const [from, to] of Object.entries(keys)) {
    const value = Object.hasOwn(record, from) ? record[from] : undefined;
    if (typeof value === 'string') out[to] = clip(value);
    else if (typeof value === 'number' || typeof value === 'boolean') out[to] = value;
  }
  return out;
}

/** The project slug from an event API URL: `…/api/0/projects/{org}/{project}/events/{id}/`. */
function projectFromEventUrl(url: string | null | undefined): string | null {
  const match = url && url.length <= 2048 ? /\/projects\/[^/]+\/([^/]+)\/events\//.exec(url) : null;
  if (!match) return null;
  try {
    return textOrNull(decodeURIComponent(match[1]!))?.slice(0, 128) ?? null;
  } catch {
    return null; // a malformed %-escape: no project rather than a refused webhook
  }
}

/** An event's web page is `…/issues/{id}/events/{event}/`; the issue's page is the part before `events/`. */
function issuePageFromEventPage(url: string | null | undefined): string | null {
  const match =
    url && url.length <= 2048 ? /^(https?:\/\/.+\/issues\/[^/]+\/)events\/[^/]+\/?$/i.exec(url) : null;
  return match ? match[1]! : null;
}

// ---------------------------------------------------------------------------------------------------------
// Body schemas: only what the adapter uses is typed; everything else Sentry sends is accepted and kept in raw.

const actionSchema = z.object({ action: z.string().max(64) });

/** The fields every Sentry webhook wraps its resource in (all optional here: only used for details). */
const envelopeSchema = z.object({
  installation: z.object({ uuid: optionalText }).nullish(),
  actor: z.object({ name: optionalText }).nullish(),
});

const issueBodySchema = z.object({
  action: z.string(),
  data: z.object({
    issue: z.object({
      id: sentryIdSchema,
      status: z.string().trim().min(1, 'must not be empty').max(64),
      title: optionalText,
      culprit: optionalText,
      level: optionalText,
      shortId: optionalText,
      web_url: optionalText,
      permalink: optionalText,
      firstSeen: optionalText,
      lastSeen: optionalText,
      project: z.object({ slug: optionalText, name: optionalText }).nullish(),
    }),
  }),
  ...envelopeSchema.shape,
});

/** The event object of `event_alert` (data.event) and `error` (data.error) webhooks. */
const eventSchema = z.object({
  issue_id: sentryIdSchema,
  title: optionalText,
  message: optionalText,
  culprit: optionalText,
  level: optionalText,
  url: optionalText,
  web_url: optionalText,
  issue_url: optionalText,
  datetime: optionalText,
  timestamp: optionalSeconds,
});

const eventAlertBodySchema = z.object({
  action: z.string(),
  data: z.object({
    event: eventSchema.extend({ event_id: sentryEventIdSchema.nullish() }),
    triggered_rule: optionalText,
  }),
  ...envelopeSchema.shape,
});

const errorBodySchema = z.object({
  action: z.string(),
  data: z.object({
    error: eventSchema.extend({ event_id: sentryEventIdSchema }),
  }),
  ...envelopeSchema.shape,
});

const metricAlertBodySchema = z.object({
  action: z.string(),
  data: z.object({
    metric_alert: z.object({
      id: sentryIdSchema,
      title: optionalText,
      status: z.union([z.number(), z.string().max(64)]).nullish(),
      date_started: optionalText,
      date_detected: optionalText,
      date_closed: optionalText,
      projects: z.array(z.string()).nullish(),
      alert_rule: z
        .object({ id: sentryIdSchema.nullish(), name: optionalText, projects: z.array(z.string()).nullish() })
        .nullish(),
    }),
    description_title: optionalText,
    description_text: optionalText,
    web_url: optionalText,
  }),
  ...envelopeSchema.shape,
});

// ---------------------------------------------------------------------------------------------------------

interface Context {
  request: InboundRequest;
  integration: IntegrationPolicy;
  resource: string;
  action: string;
  body: unknown;
}

/** What every alert of this adapter shares. */
function alertBase(ctx: Context): Pick<NormalizedAlert, 'integration' | 'raw'> {
  return { integration: ctx.integration.name, raw: ctx.request.rawBody.toString('utf8') };
}

/** Who/what sent it, for the incident's details. */
function envelopeDetails(ctx: Context, body: z.output<typeof envelopeSchema>): Record<string, unknown> {
  return {
    sentry_resource: ctx.resource,
    sentry_action: ctx.action,
    ...(body.installation?.uuid ? { installation: clip(body.installation.uuid, 128) } : {}),
    ...(body.actor?.name ? { actor: clip(body.actor.name, 256) } : {}),
  };
}

// Maps, not object literals: the action and resource come from the body/header ("constructor" must not match).
const ISSUE_ACTIONS = new Map<string, AlertAction>([
  ['created', 'trigger'],
  ['unresolved', 'trigger'],
  ['resolved', 'resolve'],
]);

function parseIssue(ctx: Context): NormalizedAlert[] {
  const action = ISSUE_ACTIONS.get(ctx.action);
  if (!action) return []; // assigned, ignored, archived: a person is handling it in Sentry; nothing to page.
  const body = parseOrThrow(issueBodySchema, ctx.body);
  const issue = body.data.issue;
  const project = textOrNull(issue.project?.slug) ?? textOrNull(issue.project?.name);
  const title =
    textOrNull(issue.title) ??
    textOrNull(issue.culprit) ??
    `Sentry issue ${textOrNull(issue.shortId)?.slice(0, 128) ?? issue.id}`;
  return [
    {
      ...alertBase(ctx),
      action,
      dedup_key: `sentry:issue:${issue.id}`,
      title: sentryTitle(project, title),
      severity: mapSeverity(issue.level, ctx.integration, SENTRY_DEFAULT_SEVERITIES),
      source: project,
      details: {
        ...envelopeDetails(ctx, body),
        issue_id: issue.id,
        ...pickDetails(rawAt(ctx.body, 'data', 'issue'), {
          shortId: 'short_id',
          level: 'level',
          status: 'status',
          substatus: 'substatus',
          culprit: 'culprit',
          count: 'count',
          userCount: 'user_count',
          firstSeen: 'first_seen',
          lastSeen: 'last_seen',
          platform: 'platform',
        }),
        ...(project ? { project } : {}),
      },
      links: sentryLinks(
        { href: issue.web_url, text: 'Sentry issue' },
        { href: issue.permalink, text: 'Sentry issue' },
      ),
      // A regression ("unresolved") starts when the issue was last seen, a new issue when it was first seen.
      occurred_at: sentryDate(ctx.action === 'unresolved' ? issue.lastSeen : issue.firstSeen),
      delivery_key: deliveryKeyIssue(ctx.action, issue.id, issue.status, issue.lastSeen),
    },
  ];
}

/**
 * `issue:{action}:{id}:{status}` as DESIGN.md says, e.g. `issue:created:123:unresolved`. An issue is created
 * once, but it can be resolved and regress (unresolved) many times, and each of those is a real change that must
 * reach the incident; so for those actions the issue's `lastSeen` is appended: a regression needs a new event,
 * which moves lastSeen, while a redelivery of the same notification carries the same value.
 */
export function deliveryKeyIssue(
  action: string,
  id: string,
  status: string,
  lastSeen: string | null | undefined,
): string {
  const base = `issue:${action}:${keyPart(id)}:${keyPart(status)}`;
  return action === 'created' ? base : `${base}:${keyPart(lastSeen)}`;
}

/** event_alert and error webhooks: one event of an issue. */
function parseEvent(
  ctx: Context,
  event: z.output<typeof eventSchema> & { event_id?: string | null },
  rawEvent: unknown,
  details: Record<string, unknown>,
): NormalizedAlert {
  const project = projectFromEventUrl(event.url);
  const title =
    textOrNull(event.title) ??
    textOrNull(event.message) ??
    textOrNull(event.culprit) ??
    `Sentry issue ${event.issue_id}`;
  const issuePage = issuePageFromEventPage(event.web_url);
  return {
    ...alertBase(ctx),
    action: 'trigger',
    dedup_key: `sentry:issue:${event.issue_id}`,
    title: sentryTitle(project, title),
    severity: mapSeverity(event.level, ctx.integration, SENTRY_DEFAULT_SEVERITIES),
    source: project,
    details: {
      ...details,
      issue_id: event.issue_id,
      ...(event.event_id ? { event_id: event.event_id } : {}),
      ...pickDetails(rawEvent, {
        level: 'level',
        culprit: 'culprit',
        platform: 'platform',
        environment: 'environment',
      }),
      ...(project ? { project } : {}),
    },
    links: sentryLinks(
      { href: issuePage, text: 'Sentry issue' },
      { href: event.web_url, text: 'Sentry event' },
    ),
    occurred_at: sentryDate(event.datetime, event.timestamp),
    // The event id is unique per event: a redelivery repeats it, a new event (or a new firing) does not. Without
    // one (not seen in practice) the body itself is the only identity there is.
    delivery_key: `${ctx.resource}:${ctx.action}:${keyPart(event.issue_id)}:${event.event_id ? keyPart(event.event_id) : `body-${shortHash(ctx.request.rawBody.toString('utf8'))}`}`,
  };
}

function parseEventAlert(ctx: Context): NormalizedAlert[] {
  if (ctx.action !== 'triggered') return [];
  const body = parseOrThrow(eventAlertBodySchema, ctx.body);
  const rule = textOrNull(body.data.triggered_rule);
  const alert = parseEvent(ctx, body.data.event, rawAt(ctx.body, 'data', 'event'), {
    ...envelopeDetails(ctx, body),
    ...(rule ? { triggered_rule: clip(rule) } : {}),
  });
  // Two rules firing on one event are two notifications; they still belong to one incident.
  if (rule) alert.delivery_key = `${alert.delivery_key}:${shortHash(rule)}`;
  return [alert];
}

function parseError(ctx: Context): NormalizedAlert[] {
  if (ctx.action !== 'created') return [];
  const body = parseOrThrow(errorBodySchema, ctx.body);
  return [parseEvent(ctx, body.data.error, rawAt(ctx.body, 'data', 'error'), envelopeDetails(ctx, body))];
}

const METRIC_ACTIONS = new Map<string, AlertAction>([
  ['critical', 'trigger'],
  ['warning', 'trigger'],
  ['resolved', 'resolve'],
]);

function parseMetricAlert(ctx: Context): NormalizedAlert[] {
  const action = METRIC_ACTIONS.get(ctx.action);
  if (!action) return [];
  const body = parseOrThrow(metricAlertBodySchema, ctx.body);
  const { metric_alert: incident, description_title, description_text, web_url } = body.data;
  const projects = incident.projects ?? incident.alert_rule?.projects ?? [];
  const project = textOrNull(projects.slice(0, 5).join(', ').slice(0, 256));
  const title =
    textOrNull(description_title) ??
    textOrNull(incident.alert_rule?.name) ??
    textOrNull(incident.title) ??
    `Sentry metric alert ${incident.id}`;
  return [
    {
      ...alertBase(ctx),
      action,
      dedup_key: `sentry:metric:${incident.id}`,
      title: sentryTitle(project, title),
      // The action is the severity word (critical/warning); "resolved" maps to nothing, which is right.
      severity: mapSeverity(ctx.action, ctx.integration, SENTRY_DEFAULT_SEVERITIES),
      source: project,
      details: {
        ...envelopeDetails(ctx, body),
        metric_alert_id: incident.id,
        ...(incident.alert_rule?.id ? { alert_rule_id: incident.alert_rule.id } : {}),
        ...(incident.alert_rule?.name ? { alert_rule: clip(incident.alert_rule.name) } : {}),
        ...(description_text ? { description: clip(description_text) } : {}),
        ...(incident.status !== null && incident.status !== undefined ? { status: incident.status } : {}),
        ...(projects.length ? { projects: projects.slice(0, 20).map((p) => clip(p, 128)) } : {}),
      },
      links: sentryLinks({ href: web_url, text: 'Sentry metric alert' }),
      occurred_at: sentryDate(incident.date_detected ?? incident.date_started),
      delivery_key: deliveryKeyMetric(ctx.action, incident, description_text),
    },
  ];
}

/**
 * `metric_alert:{action}:{id}:{status}:{date}:{description hash}`. One metric-alert incident can go critical →
 * warning → critical: the same action and id again, but a real new state. Sentry's `status`, the closing or
 * detection date and the description text (which carries the current value, "1000 events in the last 10
 * minutes") tell those apart, while a redelivery of one notification repeats them all.
 */
export function deliveryKeyMetric(
  action: string,
  incident: {
    id: string;
    status?: number | string | null;
    date_closed?: string | null;
    date_detected?: string | null;
    date_started?: string | null;
  },
  description: string | null | undefined,
): string {
  const date = incident.date_closed ?? incident.date_detected ?? incident.date_started;
  return `metric_alert:${action}:${keyPart(incident.id)}:${keyPart(incident.status)}:${keyPart(date)}:${shortHash(description ?? '')}`;
}

const RESOURCES = new Map<string, (ctx: Context) => NormalizedAlert[]>([
  ['issue', parseIssue],
  ['event_alert', parseEventAlert],
  ['metric_alert', parseMetricAlert],
  ['error', parseError],
]);

/** Verifies `Sentry-Hook-Signature` (hex HMAC-SHA256 of the raw body under the client secret). */
export function verifySentrySignature(request: InboundRequest, secret: string): void {
  const given = header(request, 'sentry-hook-signature')?.trim();
  if (!given) {
    throw new GuardiaError(
      'unauthenticated',
      'missing Sentry-Hook-Signature header: Sentry integration webhooks are signed with HMAC-SHA256 of the body under the client secret',
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(given)) {
    throw new GuardiaError(
      'unauthenticated',
      `malformed Sentry-Hook-Signature header: expected 64 hex characters (HMAC-SHA256), received ${given.length} characters`,
    );
  }
  const expected = crypto.createHmac('sha256', secret).update(request.rawBody).digest();
  if (!crypto.timingSafeEqual(Buffer.from(given, 'hex'), expected)) {
    throw new GuardiaError(
      'unauthenticated',
      "Sentry-Hook-Signature does not match the request body: the integration's secret must be the Sentry integration's Client Secret, and the body must arrive unmodified",
    );
  }
}

/** Sentry integration-platform webhooks (issue, event_alert, metric_alert, error). */
export const sentryAdapter: IngestAdapter = {
  type: 'sentry',
  description:
    'Sentry integration-platform webhooks (issue, issue/metric alerts, errors) signed with Sentry-Hook-Signature (HMAC-SHA256 of the client secret)',
  authenticate: verifySentrySignature,
  parse(request, integration) {
    const body = parseJsonBody(request);
    const resourceHeader = header(request, 'sentry-hook-resource')?.trim().toLowerCase();
    if (!resourceHeader) {
      throw new GuardiaError(
        'invalid_input',
        'missing Sentry-Hook-Resource header: expected issue, event_alert, metric_alert or error (Sentry sends it with every webhook)',
      );
    }
    const handler = RESOURCES.get(resourceHeader);
    if (!handler) return { alerts: [] }; // installation, comment, seer, …: subscribed but not alerting.
    const { action } = parseOrThrow(actionSchema, body);
    return { alerts: handler({ request, integration, resource: resourceHeader, action, body }) };
  },
};

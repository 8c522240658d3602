/**
 * PagerDuty Events API v2 compatibility (`POST /v2/enqueue`): any tool that can page PagerDuty can page Guardia
 * by changing the URL. The routing_key in the body is the credential; answers use PagerDuty's own bodies:
 *   202 { status: "success", message: "Event processed", dedup_key }
 *   400 { status: "invalid event", message: "Event object is invalid", errors: [...] }
 * Guardia's `{ error: { code, message } }` is added beside PagerDuty's fields, so both kinds of client understand.
 * trigger opens or attaches; acknowledge and resolve act on the open incident for the dedup_key, as in PagerDuty
 * (and, as in PagerDuty, they are accepted and dropped silently when nothing is open).
 */
import crypto from 'node:crypto';
import type { IntegrationPolicy, Severity } from '../domain/policy/schema.js';
import type { NormalizedAlert } from './alert.js';
import { mapSeverity } from './severity.js';

const DEFAULT_SEVERITIES: Record<string, Severity> = {
  critical: 'sev1',
  error: 'sev2',
  warning: 'sev3',
  info: 'sev3',
};
const ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
const PD_SEVERITIES = ['critical', 'error', 'warning', 'info'];

export interface PagerDutyEvent {
  routing_key: string;
  event_action: (typeof ACTIONS)[number];
  dedup_key?: string;
  payload?: {
    summary: string;
    source: string;
    severity: string;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: unknown;
  };
  links?: { href: string; text?: string }[];
  images?: { src: string; href?: string; alt?: string }[];
  client?: string;
  client_url?: string;
}

/** Validates an Events v2 body, returning PagerDuty-style error strings (empty when valid). */
export function validatePagerDutyEvent(body: unknown): { event?: PagerDutyEvent; errors: string[] } {
  const errors: string[] = [];
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { errors: ['Event object must be a JSON object'] };
  const e = body as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
  if (!str(e.routing_key)) errors.push("'routing_key' is missing or blank");
  if (!str(e.event_action)) errors.push("'event_action' is missing or blank");
  else if (!(ACTIONS as readonly string[]).includes(e.event_action))
    errors.push(
      "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')",
    );
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255))
    errors.push("'dedup_key' must be a string of at most 255 characters");
  if (e.event_action === 'acknowledge' || e.event_action === 'resolve') {
    if (!str(e.dedup_key)) errors.push("'dedup_key' is missing or blank");
  }
  if (e.event_action === 'trigger') {
    const p = e.payload;
    if (p === null || typeof p !== 'object' || Array.isArray(p))
      errors.push("'payload' is missing or not an object");
    else {
      const payload = p as Record<string, unknown>;
      if (!str(payload.summary)) errors.push("'payload.summary' is missing or blank");
      else if (payload.summary.length > 1024)
        errors.push("Length of 'payload.summary' is incorrect (should be at most 1024 characters)");
      if (!str(payload.source)) errors.push("'payload.source' is missing or blank");
      if (!str(payload.severity)) errors.push("'payload.severity' is missing or blank");
      else if (!PD_SEVERITIES.includes(payload.severity))
        errors.push(
          "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
        );
      if (
        payload.timestamp !== undefined &&
        (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))
      )
        errors.push("'payload.timestamp' is invalid (must be an ISO-8601 timestamp)");
      for (const field of ['component', 'group', 'class'] as const) {
        if (payload[field] !== undefined && typeof payload[field] !== 'string')
          errors.push(`'payload.${field}' must be a string`);
      }
    }
  }
  if (e.links !== undefined && !isArrayOf(e.links, (l) => typeof l.href === 'string'))
    errors.push("'links' must be an array of objects with 'href'");
  if (e.images !== undefined && !isArrayOf(e.images, (i) => typeof i.src === 'string'))
    errors.push("'images' must be an array of objects with 'src'");
  return errors.length ? { errors } : { event: e as unknown as PagerDutyEvent, errors };
}

/**
 * Turns a valid event into Guardia's normalized alert. The body kept with the alert is the event re-serialized
 * with its routing key replaced: the key is the integration's secret and must not sit in the store.
 */
export function pagerDutyToAlert(
  event: PagerDutyEvent,
  integration: IntegrationPolicy,
  /** The body as received: accepted for older callers, not kept (it carries the routing key). */
  _raw?: string,
): NormalizedAlert {
  const raw = JSON.stringify({ ...event, routing_key: '[redacted]' });
  const action = event.event_action;
  const dedupKey = event.dedup_key ?? crypto.randomUUID();
  const p = event.payload;
  const links = [
    ...(event.links ?? []).map((l) => ({ href: l.href, ...(l.text ? { text: l.text } : {}) })),
    ...(event.images ?? []).filter((i) => i.href).map((i) => ({ href: i.href!, text: i.alt ?? 'image' })),
    ...(event.client_url ? [{ href: event.client_url, text: event.client ?? 'source' }] : []),
  ];
  return {
    integration: integration.name,
    action,
    dedup_key: dedupKey,
    title: p?.summary ?? `${action} ${dedupKey}`,
    severity: p ? mapSeverity(p.severity, integration, DEFAULT_SEVERITIES) : null,
    source: p?.source ?? null,
    details: p
      ? {
          ...(p.custom_details === undefined ? {} : { custom_details: p.custom_details }),
          ...(p.component ? { component: p.component } : {}),
          ...(p.group ? { group: p.group } : {}),
          ...(p.class ? { class: p.class } : {}),
          ...(event.client ? { client: event.client } : {}),
        }
      : {},
    links,
    occurred_at: p?.timestamp ? new Date(p.timestamp) : null,
    delivery_key: null,
    raw,
  };
}

function isArrayOf(value: unknown, check: (item: Record<string, unknown>) => boolean): boolean {
  return (
    Array.isArray(value) &&
    value.every((v) => v !== null && typeof v === 'object' && check(v as Record<string, unknown>))
  );
}

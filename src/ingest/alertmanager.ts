/**
 * Prometheus Alertmanager webhook receiver (`webhook_config`, payload version "4").
 *
 * What Alertmanager sends: one POST per notification of an alert *group* — `alerts[]` holds every alert of the
 * group, firing and resolved mixed (`send_resolved: true`, the default, adds the resolved ones). The same group is
 * re-sent every `group_interval` while it changes and every `repeat_interval` while it does not, so most alerts of
 * a POST have been seen before. Each alert carries `status`, `labels`, `annotations`, `startsAt`, `endsAt`
 * ("0001-01-01T00:00:00Z" while firing), `generatorURL` and `fingerprint` (a hash of the label set); the group
 * carries `receiver`, `status`, `groupKey`, `externalURL`, `truncatedAlerts`, `version`.
 * Format: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config and
 * prometheus/alertmanager notify/webhook/webhook.go (`Message`).
 *
 * Authentication: the payload is not signed; Alertmanager can only present credentials through `http_config`.
 * Guardia expects `http_config: { authorization: { credentials: <ALERTMANAGER_TOKEN> } }` (sent as
 * `Authorization: Bearer <token>`; the older `bearer_token` field sends the same header), or `?token=` in the URL.
 *
 * Mapping, one NormalizedAlert per element of `alerts[]`:
 *   dedup_key    `am:{fingerprint}` — the same label set is the same problem, whichever group carries it
 *   delivery_key `{fingerprint}:{status}:{startsAt}` — a re-sent group is answered "duplicate"; a new firing of the
 *                same labels (new startsAt) and its resolution are new deliveries
 *   action       firing → trigger, resolved → resolve
 *   severity     `labels.severity` via the policy's severity_map, then critical → sev1, error/high/major → sev2,
 *                warning/minor/info → sev3; any other word (or none) lets the route decide
 *   title        annotations.summary, else annotations.title, else labels.alertname (+ " on {instance}")
 *   source       labels.instance, else labels.job
 *   links        generatorURL (the rule's expression in Prometheus), a silence link on externalURL, and
 *                annotations.runbook_url — only http(s) URLs, so a hostile payload cannot plant `javascript:` links
 *   occurred_at  startsAt
 */
import { z } from 'zod';
import type { IntegrationPolicy, Severity } from '../domain/policy/schema.js';
import { parseOrThrow } from '../shared/validate.js';
import {
  authenticateBearer,
  clip,
  parseJsonBody,
  type IngestAdapter,
  type InboundRequest,
} from './adapter.js';
import type { NormalizedAlert } from './alert.js';
import { mapSeverity } from './severity.js';

/** Severity words seen in Prometheus/Grafana rule labels, mapped to Guardia's (the policy's severity_map wins). */
export const PROMETHEUS_SEVERITIES: Record<string, Severity> = {
  critical: 'sev1',
  error: 'sev2',
  high: 'sev2',
  major: 'sev2',
  warning: 'sev3',
  minor: 'sev3',
  info: 'sev3',
};

/** Label and annotation sets: maps of string to string in Alertmanager's data model. */
export const labelSetSchema = z.record(z.string(), z.string());

/**
 * One alert as Alertmanager's template data carries it (Grafana's alerts extend this). Only what the mapping needs
 * is required; `annotations` and `endsAt` are always sent by Alertmanager but tolerated missing.
 */
export const prometheusAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSetSchema,
  annotations: labelSetSchema.optional(),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().optional(),
  // Bounded because it becomes part of indexed keys; Alertmanager's are 16 hex characters.
  fingerprint: z.string().trim().min(1, 'must not be empty').max(255),
});
export type PrometheusAlert = z.output<typeof prometheusAlertSchema>;

export const alertmanagerBodySchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  receiver: z.string().optional(),
  status: z.string().optional(),
  externalURL: z.string().optional(),
  truncatedAlerts: z.number().optional(),
  groupLabels: labelSetSchema.optional(),
  commonLabels: labelSetSchema.optional(),
  commonAnnotations: labelSetSchema.optional(),
  alerts: z.array(prometheusAlertSchema),
});
export type AlertmanagerBody = z.output<typeof alertmanagerBodySchema>;

export const alertmanagerAdapter: IngestAdapter = {
  type: 'alertmanager',
  description: 'Prometheus Alertmanager webhook_config (payload v4) with an http_config bearer token',
  authenticate: authenticateBearer,
  parse(request, integration) {
    const body = parseOrThrow(alertmanagerBodySchema, parseJsonBody(request));
    return { alerts: body.alerts.map((alert) => alertmanagerToAlert(alert, body, integration, request)) };
  },
};

/** Maps one element of `alerts[]` (see the header comment for the rules). */
export function alertmanagerToAlert(
  alert: PrometheusAlert,
  body: AlertmanagerBody,
  integration: IntegrationPolicy,
  request: InboundRequest,
): NormalizedAlert {
  const annotations = alert.annotations ?? {};
  const externalURL = body.externalURL?.replace(/\/+$/, '');
  return {
    integration: integration.name,
    action: alert.status === 'resolved' ? 'resolve' : 'trigger',
    dedup_key: `am:${alert.fingerprint}`,
    title: prometheusTitle(alert, 'Alertmanager'),
    severity: mapSeverityOf(alert.labels, integration),
    source: nonEmpty(alert.labels.instance) ?? nonEmpty(alert.labels.job) ?? null,
    details: {
      labels: alert.labels,
      annotations,
      status: alert.status,
      fingerprint: alert.fingerprint,
      starts_at: alert.startsAt,
      ...(realTime(alert.endsAt) ? { ends_at: alert.endsAt } : {}),
      ...(body.receiver ? { receiver: body.receiver } : {}),
      ...(body.groupKey ? { group_key: body.groupKey } : {}),
      ...(externalURL ? { external_url: externalURL } : {}),
    },
    links: uniqueLinks([
      webLink(alert.generatorURL, 'Prometheus: alert expression'),
      webLink(
        externalURL
          ? `${externalURL}/#/silences/new?filter=${encodeURIComponent(matchers(alert.labels))}`
          : undefined,
        'Silence in Alertmanager',
      ),
      webLink(annotations.runbook_url, 'Runbook'),
    ]),
    occurred_at: realTime(alert.startsAt),
    delivery_key: `${alert.fingerprint}:${alert.status}:${alert.startsAt}`,
    raw: request.rawBody.toString('utf8'),
  };
}

/** `labels.severity` through the policy's severity_map, then PROMETHEUS_SEVERITIES; unknown words → null. */
export function mapSeverityOf(
  labels: Record<string, string>,
  integration: IntegrationPolicy,
): Severity | null {
  return mapSeverity(labels.severity, integration, PROMETHEUS_SEVERITIES);
}

/** summary, else title annotation, else "alertname on instance"; `what` names the sender when nothing else does. */
export function prometheusTitle(
  alert: Pick<PrometheusAlert, 'labels' | 'annotations' | 'fingerprint'>,
  what: string,
): string {
  const annotations = alert.annotations ?? {};
  const text = nonEmpty(annotations.summary) ?? nonEmpty(annotations.title);
  if (text) return clip(text);
  const name = nonEmpty(alert.labels.alertname) ?? `${what} alert ${alert.fingerprint}`;
  const instance = nonEmpty(alert.labels.instance);
  return clip(instance ? `${name} on ${instance}` : name);
}

/** A link only when it is an absolute http(s) URL of sane length; anything else is dropped, not refused. */
export function webLink(
  href: string | undefined | null,
  text: string,
): { href: string; text: string } | null {
  if (!href || href.length > 2048) return null;
  try {
    const url = new URL(href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? { href, text } : null;
  } catch {
    return null;
  }
}

/** Drops the nulls and repeated hrefs, keeping the first text. */
export function uniqueLinks(
  links: ({ href: string; text: string } | null)[],
): { href: string; text: string }[] {
  const seen = new Set<string>();
  const out: { href: string; text: string }[] = [];
  for (const link of links) {
    if (link && !seen.has(link.href)) {
      seen.add(link.href);
      out.push(link);
    }
  }
  return out;
}

/** A timestamp that means something: Go's zero time ("0001-01-01T00:00:00Z", used for "not ended") is null. */
export function realTime(value: string | undefined): Date | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) || ms <= 0 ? null : new Date(ms);
}

/** The trimmed text, or undefined when there is none. */
export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** The label set as an Alertmanager matcher list, `{alertname="X", instance="y"}`, as its UI's filter takes. */
function matchers(labels: Record<string, string>): string {
  const quoted = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
  );
  return `{${quoted.join(', ')}}`;
}

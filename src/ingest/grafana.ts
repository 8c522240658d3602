/**
 * Grafana Alerting webhook contact point (payload version "1").
 *
 * What Grafana sends: an Alertmanager-shaped group notification — `alerts[]` with status, labels, annotations,
 * startsAt, endsAt, fingerprint, generatorURL, silenceURL, dashboardURL, panelURL, imageURL, values, valueString —
 * plus `orgId`, `title`, `state`, `message` and `version: "1"`. Re-sent on group_interval / repeat_interval like
 * Alertmanager. The contact point's **Test** button sends an ordinary notification with one synthetic alert,
 * labels `{alertname="TestAlert", instance="Grafana"}`; it is recorded as a test and pages no one.
 * Format: https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 * and grafana/alerting receivers/webhook (`webhookMessage`).
 *
 * Authentication: the contact point's optional "HMAC Signature" settings (Grafana 11.6+), secret =
 * GRAFANA_WEBHOOK_SECRET. Grafana puts hex(HMAC-SHA256(secret, message)) in the signature header — documented
 * default `X-Grafana-Alerting-Signature`; grafana/alerting's http/hmac.go falls back to `X-Grafana-Alert-Signature`
 * when the Header field is left empty, so both names are read. With a Timestamp Header configured, Grafana sends
 * the Unix time in seconds in it and signs `timestamp + ":" + body`; Guardia reads the name Grafana's docs use,
 * `X-Grafana-Alerting-Signature-Timestamp`, and refuses a timestamp more than 5 minutes from the time of receipt
 * (replays). Without a timestamp the body alone is signed and a replay can only repeat deliveries, which the
 * delivery key turns into "duplicate". Configure the timestamp header to get replay protection.
 *
 * Mapping (as Alertmanager's, see alertmanager.ts): one alert per element of `alerts[]`; dedup_key
 * `grafana:{fingerprint}`; delivery_key `{fingerprint}:{status}:{startsAt}`; firing → trigger, resolved → resolve;
 * severity from `labels.severity`; title from annotations.summary / annotations.title / alertname (+ instance);
 * links generatorURL (the alert rule), dashboardURL, panelURL, silenceURL, imageURL, annotations.runbook_url.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { GuardiaError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { header, parseJsonBody, type IngestAdapter, type InboundRequest } from './adapter.js';
import type { NormalizedAlert } from './alert.js';
import {
  labelSetSchema,
  mapSeverityOf,
  nonEmpty,
  prometheusAlertSchema,
  prometheusTitle,
  realTime,
  uniqueLinks,
  webLink,
} from './alertmanager.js';

/** The documented default signature header, then grafana/alerting's own fallback name. */
export const GRAFANA_SIGNATURE_HEADERS = [
  'x-grafana-alerting-signature',
  'x-grafana-alert-signature',
] as const;
export const GRAFANA_TIMESTAMP_HEADER = 'x-grafana-alerting-signature-timestamp';
/** How far a signed timestamp may be from the time of receipt, either way. */
export const GRAFANA_MAX_SKEW_MS = 5 * 60 * 1000;

export const grafanaAlertSchema = prometheusAlertSchema.extend({
  silenceURL: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
  imageURL: z.string().optional(),
  values: z.record(z.string(), z.unknown()).nullable().optional(),
  valueString: z.string().optional(),
});
type GrafanaAlert = z.output<typeof grafanaAlertSchema>;

export const grafanaBodySchema = z.object({
  version: z.string().optional(),
  orgId: z.number().optional(),
  receiver: z.string().optional(),
  status: z.string().optional(),
  groupKey: z.string().optional(),
  externalURL: z.string().optional(),
  title: z.string().optional(),
  state: z.string().optional(),
  message: z.string().optional(),
  truncatedAlerts: z.number().optional(),
  groupLabels: labelSetSchema.optional(),
  commonLabels: labelSetSchema.optional(),
  commonAnnotations: labelSetSchema.optional(),
  alerts: z.array(grafanaAlertSchema),
});
type GrafanaBody = z.output<typeof grafanaBodySchema>;

export const grafanaAdapter: IngestAdapter = {
  type: 'grafana',
  description:
    'Grafana Alerting webhook contact point with HMAC signature (X-Grafana-Alerting-Signature, optional timestamp)',
  authenticate: authenticateGrafana,
  parse(request, integration) {
    const body = parseOrThrow(grafanaBodySchema, parseJsonBody(request));
    const raw = request.rawBody.toString('utf8');
    return {
      alerts: body.alerts.map((alert): NormalizedAlert => ({
        integration: integration.name,
        action: isTestNotification(alert) ? 'test' : alert.status === 'resolved' ? 'resolve' : 'trigger',
        dedup_key: `grafana:${alert.fingerprint}`,
        title: prometheusTitle(alert, 'Grafana'),
        severity: mapSeverityOf(alert.labels, integration),
        source: nonEmpty(alert.labels.instance) ?? nonEmpty(alert.labels.job) ?? null,
        details: details(alert, body),
        links: uniqueLinks([
          webLink(alert.generatorURL, 'Grafana: alert rule'),
          webLink(alert.dashboardURL, 'Grafana: dashboard'),
          webLink(alert.panelURL, 'Grafana: panel'),
          webLink(alert.imageURL, 'Grafana: panel image'),
          webLink(alert.silenceURL, 'Silence in Grafana'),
          webLink(alert.annotations?.runbook_url, 'Runbook'),
        ]),
        occurred_at: realTime(alert.startsAt),
        delivery_key: `${alert.fingerprint}:${alert.status}:${alert.startsAt}`,
        raw,
      })),
    };
  },
};

/**
 * Verifies Grafana's HMAC over the raw bytes: hex HMAC-SHA256 of `timestamp:body` when the timestamp header is
 * present (and the timestamp within 5 minutes of receipt), of the body alone otherwise.
 */
export function authenticateGrafana(request: InboundRequest, secret: string): void {
  const name = GRAFANA_SIGNATURE_HEADERS.find((h) => header(request, h) !== undefined);
  const given = name === undefined ? undefined : header(request, name)!.trim();
  if (given === undefined || given === '') {
    throw new GuardiaError(
      'unauthenticated',
      'missing X-Grafana-Alerting-Signature header: enable "HMAC Signature" on the Grafana webhook contact point with the shared secret',
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(given)) {
    throw new GuardiaError(
      'unauthenticated',
      `malformed ${name} header: expected 64 hex characters (HMAC-SHA256), got ${given.length} characters`,
    );
  }
  const timestamp = header(request, GRAFANA_TIMESTAMP_HEADER)?.trim();
  if (timestamp !== undefined && !/^\d{1,12}$/.test(timestamp)) {
    throw new GuardiaError(
      'unauthenticated',
      'malformed X-Grafana-Alerting-Signature-Timestamp header: expected Unix time in seconds',
    );
  }
  const hmac = crypto.createHmac('sha256', secret);
  if (timestamp !== undefined) hmac.update(`${timestamp}:`);
  const expected = hmac.update(request.rawBody).digest();
  if (!crypto.timingSafeEqual(Buffer.from(given, 'hex'), expected)) {
    throw new GuardiaError(
      'unauthenticated',
      `invalid ${name} header: the HMAC-SHA256 of ${timestamp === undefined ? 'the body' : 'timestamp:body'} does not match (wrong secret, altered body, or a Timestamp Header other than X-Grafana-Alerting-Signature-Timestamp)`,
    );
  }
  // Checked after the signature, so only a holder of the secret learns about clocks.
  if (timestamp !== undefined) {
    const skew = Math.abs(request.receivedAt.getTime() - Number(timestamp) * 1000);
    if (skew > GRAFANA_MAX_SKEW_MS) {
      throw new GuardiaError(
        'unauthenticated',
        `X-Grafana-Alerting-Signature-Timestamp is ${Math.round(skew / 1000)} s from this server's time (at most 300 s allowed): refused as a replay`,
      );
    }
  }
}

/** Grafana's contact-point Test button sends this synthetic alert. */
function isTestNotification(alert: GrafanaAlert): boolean {
  return alert.labels.alertname === 'TestAlert' && alert.labels.instance === 'Grafana';
}

function details(alert: GrafanaAlert, body: GrafanaBody): Record<string, unknown> {
  return {
    labels: alert.labels,
    annotations: alert.annotations ?? {},
    status: alert.status,
    fingerprint: alert.fingerprint,
    starts_at: alert.startsAt,
    ...(realTime(alert.endsAt) ? { ends_at: alert.endsAt } : {}),
    ...(alert.values ? { values: alert.values } : {}),
    ...(alert.valueString ? { value_string: alert.valueString } : {}),
    ...(body.orgId !== undefined ? { org_id: body.orgId } : {}),
    ...(body.receiver ? { receiver: body.receiver } : {}),
    ...(body.groupKey ? { group_key: body.groupKey } : {}),
    ...(body.externalURL ? { external_url: body.externalURL } : {}),
  };
}

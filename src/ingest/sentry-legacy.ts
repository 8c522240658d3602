/**
 * Sentry's legacy "WebHooks" plugin (Project Settings → Legacy Integrations → WebHooks), still the simplest way
 * to get a self-hosted Sentry's issue alerts out. Source: getsentry/sentry
 * src/sentry/plugins/sentry_webhooks/plugin.py (`get_group_data`) and client.py.
 *
 * What it sends: `POST` JSON, User-Agent `sentry-webhooks/<version>`, when an issue-alert rule fires:
 *   { id (issue id), project, project_name, project_slug, logger, level, culprit, message, url (issue page),
 *     triggering_rules: [rule names], event: { event_id, id, level, timestamp, tags, exception, … } }
 * It has no signature and no custom headers, so the only credential is a secret in the URL:
 * `/hooks/sentry-legacy?token=<SENTRY_LEGACY_TOKEN>` (a Bearer header also works for hand-made requests),
 * checked by authenticateBearer in constant time.
 *
 * Mapping: every request is a trigger (the plugin never reports a resolution; resolve in Guardia, or use the
 * integration-platform `sentry` adapter whose issue webhooks carry `resolved`).
 *   dedup key     `sentry:issue:{id}` — the same key as the `sentry` adapter, so both doors group on one issue
 *   severity      `level` via the policy's severity_map, then SENTRY_DEFAULT_SEVERITIES (fatal/error → sev2)
 *   title         `[project_slug] message` (culprit, then "Sentry issue {id}" when the message is empty)
 *   link          `url`, the issue's page
 *   delivery key  `legacy:{id}:{event.event_id}` — one notification per event, so a retry repeats the event id;
 *                 a body without an event id falls back to a hash of the body.
 */
import { z } from 'zod';
import { parseOrThrow } from '../shared/validate.js';
import { authenticateBearer, clip, parseJsonBody, shortHash, type IngestAdapter } from './adapter.js';
import { mapSeverity } from './severity.js';
import {
  keyPart,
  optionalText,
  pickDetails,
  SENTRY_DEFAULT_SEVERITIES,
  sentryDate,
  sentryEventIdSchema,
  sentryIdSchema,
  sentryLinks,
  sentryTitle,
  textOrNull,
} from './sentry.js';

/** Only the issue id is relied on; the plugin's other fields are used when present and of the documented type. */
export const sentryLegacySchema = z.object({
  id: sentryIdSchema,
  project: optionalText,
  project_name: optionalText,
  project_slug: optionalText,
  level: optionalText,
  culprit: optionalText,
  message: optionalText,
  url: optionalText,
  triggering_rules: z.array(z.string()).nullish(),
  event: z
    .object({
      event_id: sentryEventIdSchema.nullish(),
      timestamp: z.number().nullish(),
      datetime: optionalText,
    })
    .nullish(),
});

/** Sentry's legacy WebHooks plugin: unsigned, authenticated by the token in the URL. */
export const sentryLegacyAdapter: IngestAdapter = {
  type: 'sentry-legacy',
  description:
    'Sentry legacy WebHooks plugin (issue alerts; unsigned, so authenticated by ?token= or a bearer token)',
  authenticate: authenticateBearer,
  parse(request, integration) {
    const raw = request.rawBody.toString('utf8');
    const json = parseJsonBody(request);
    const body = parseOrThrow(sentryLegacySchema, json);
    const project =
      textOrNull(body.project_slug) ?? textOrNull(body.project) ?? textOrNull(body.project_name);
    const title = textOrNull(body.message) ?? textOrNull(body.culprit) ?? `Sentry issue ${body.id}`;
    const eventId = body.event?.event_id;
    const rules = (body.triggering_rules ?? []).slice(0, 20).map((rule) => clip(rule, 256));
    return {
      alerts: [
        {
          integration: integration.name,
          action: 'trigger',
          dedup_key: `sentry:issue:${body.id}`,
          title: sentryTitle(project ? clip(project, 128) : null, title),
          severity: mapSeverity(body.level, integration, SENTRY_DEFAULT_SEVERITIES),
          source: project ? clip(project, 128) : null,
          details: {
            issue_id: body.id,
            ...(eventId ? { event_id: eventId } : {}),
            ...pickDetails(json, {
              project_slug: 'project',
              project_name: 'project_name',
              level: 'level',
              culprit: 'culprit',
              logger: 'logger',
            }),
            ...(rules.length ? { triggering_rules: rules } : {}),
          },
          links: sentryLinks({ href: body.url, text: 'Sentry issue' }),
          occurred_at: sentryDate(body.event?.datetime, body.event?.timestamp),
          delivery_key: `legacy:${keyPart(body.id)}:${eventId ? keyPart(eventId) : `body-${shortHash(raw)}`}`,
          raw,
        },
      ],
    };
  },
};

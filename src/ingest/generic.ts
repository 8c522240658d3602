/**
 * Generic JSON integration: any tool that can POST JSON with a bearer token (or `?token=`).
 *
 * Body (snake_case):
 *   title       string, required (≤ 1024 chars)
 *   severity    "sev1"|"sev2"|"sev3" or "critical"|"error"|"warning"|"info" (optional; the route decides otherwise)
 *   dedup_key   string ≤ 255 (optional; default: a hash of source + title, so repeats of one problem group)
 *   status      "firing" | "resolved" (default "firing")
 *   source      string (optional) — the system that has the problem
 *   details     object (optional) — kept with the incident
 *   links       [{ href, text? }] (optional)
 *   occurred_at ISO-8601 time the problem started (optional; default: when Guardia received it)
 * Unknown extra fields are ignored (kept in the raw payload).
 */
import { z } from 'zod';
import type { Severity } from '../domain/policy/schema.js';
import { parseOrThrow } from '../shared/validate.js';
import { authenticateBearer, parseJsonBody, shortHash, type IngestAdapter } from './adapter.js';
import { mapSeverity } from './severity.js';

const DEFAULT_SEVERITIES: Record<string, Severity> = {
  critical: 'sev1',
  error: 'sev2',
  warning: 'sev3',
  info: 'sev3',
};

const linkSchema = z.object({ href: z.string().min(1).max(2048), text: z.string().max(1024).optional() });

export const genericAlertSchema = z.object({
  title: z.string().trim().min(1, 'must not be empty').max(1024),
  severity: z.string().max(64).optional(),
  dedup_key: z.string().min(1).max(255).optional(),
  status: z.enum(['firing', 'resolved']).default('firing'),
  source: z.string().max(1024).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  links: z.array(linkSchema).max(50).optional(),
  occurred_at: z.iso.datetime({ offset: true }).optional(),
});

export const genericAdapter: IngestAdapter = {
  type: 'generic',
  description:
    'Generic JSON (title, severity, dedup_key, status, source, details, links) with a bearer token',
  authenticate: authenticateBearer,
  parse(request, integration) {
    const body = parseOrThrow(genericAlertSchema, parseJsonBody(request));
    const severity = mapSeverity(body.severity, integration, DEFAULT_SEVERITIES);
    if (body.severity !== undefined && severity === null) {
      parseOrThrow(
        z.object({
          severity: z.enum([
            'sev1',
            'sev2',
            'sev3',
            ...Object.keys(DEFAULT_SEVERITIES),
            ...Object.keys(integration.severity_map),
          ]),
        }),
        body,
      );
    }
    return {
      alerts: [
        {
          integration: integration.name,
          action: body.status === 'resolved' ? 'resolve' : 'trigger',
          dedup_key: body.dedup_key ?? `generic:${shortHash(body.source ?? '', body.title)}`,
          title: body.title,
          severity,
          source: body.source ?? null,
          details: body.details ?? {},
          links: body.links ?? [],
          occurred_at: body.occurred_at ? new Date(body.occurred_at) : null,
          delivery_key: null,
          raw: request.rawBody.toString('utf8'),
        },
      ],
    };
  },
};

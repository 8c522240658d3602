/**
 * Incident API (`/api/v1/incidents`): thin routes — validate, authorize, call the service, present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { INCIDENT_STATUSES, type IncidentAction } from '../../domain/incidents/incident.js';
import { severitySchema } from '../../domain/policy/schema.js';
import { parseOrThrow } from '../../shared/validate.js';
import { actorOf, requireRole } from '../auth.js';
import type { AppServices } from '../context.js';
import { presentIncident, presentTimeline } from '../present.js';

export const listQuerySchema = z.object({
  status: z.enum(['open', 'all', ...INCIDENT_STATUSES]).default('open'),
  severity: severitySchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});

const idParamsSchema = z.object({
  id: z.coerce.number().int().positive({ message: 'expected a positive incident id' }),
});

export const declareBodySchema = z.object({
  title: z.string().trim().min(1, 'must not be empty').max(1024),
  severity: severitySchema,
  started_at: z.iso.datetime({ offset: true }).optional(),
  dedup_key: z.string().min(1).max(255).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  links: z
    .array(z.object({ href: z.string().min(1).max(2048), text: z.string().max(1024).optional() }))
    .max(50)
    .optional(),
});

export const actionBodySchema = z.object({ note: z.string().max(4096).optional() }).default({});

const ACTIONS: IncidentAction[] = ['acknowledge', 'mitigate', 'resolve'];

export async function incidentRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const viewer = requireRole(services.tokens, 'viewer');
  const responder = requireRole(services.tokens, 'responder');

  app.get('/api/v1/incidents', { preHandler: viewer }, async (request) => {
    const query = parseOrThrow(listQuerySchema, request.query);
    const incidents = await services.incidents.list(query);
    const now = services.clock.now();
    const last = incidents[incidents.length - 1];
    return {
      incidents: incidents.map((i) => presentIncident(i, now)),
      next_cursor: incidents.length === query.limit && last ? String(last.id) : null,
    };
  });

  app.get('/api/v1/incidents/:id', { preHandler: viewer }, async (request) => {
    const { id } = parseOrThrow(idParamsSchema, request.params);
    const { incident, timeline } = await services.incidents.get(id);
    return { ...presentIncident(incident, services.clock.now()), timeline: presentTimeline(timeline) };
  });

  app.post('/api/v1/incidents', { preHandler: responder }, async (request, reply) => {
    const body = parseOrThrow(declareBodySchema, request.body);
    const incident = await services.incidents.declare(
      { ...body, started_at: body.started_at ? new Date(body.started_at) : undefined },
      actorOf(request),
    );
    return reply.status(201).send(presentIncident(incident, services.clock.now()));
  });

  for (const action of ACTIONS) {
    app.post(`/api/v1/incidents/:id/${action}`, { preHandler: responder }, async (request) => {
      const { id } = parseOrThrow(idParamsSchema, request.params);
      const { note } = parseOrThrow(actionBodySchema, request.body ?? {});
      const incident = await services.incidents.act(id, action, actorOf(request), note);
      return presentIncident(incident, services.clock.now());
    });
  }
}

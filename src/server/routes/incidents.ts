/**
 * Incident API (`/api/v1/incidents`): thin routes — validate, authorize, call the service, present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { INCIDENT_STATUSES, type IncidentAction } from '../../domain/incidents/incident.js';
import { severitySchema } from '../../domain/policy/schema.js';
import { parseOrThrow } from '../../shared/validate.js';
import type { RouteDoc } from '../openapi.js';
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

  const doc = (d: Omit<RouteDoc, 'tag'>) => ({ doc: { tag: 'Incidents', ...d } });

  app.get(
    '/api/v1/incidents',
    {
      preHandler: viewer,
      config: doc({
        summary: 'List incidents, newest first, with their SLA clocks',
        description: 'Keyset pagination: pass `next_cursor` as `before` for the next page.',
        query: listQuerySchema,
        responses: { 200: '`{ incidents, next_cursor }`', 400: 'A bad filter', 401: 'No or a bad token' },
      }),
    },
    async (request) => {
      const query = parseOrThrow(listQuerySchema, request.query);
      const incidents = await services.incidents.list(query);
      const now = services.clock.now();
      const last = incidents[incidents.length - 1];
      return {
        incidents: incidents.map((i) => presentIncident(i, now)),
        next_cursor: incidents.length === query.limit && last ? String(last.id) : null,
      };
    },
  );

  app.get(
    '/api/v1/incidents/:id',
    {
      preHandler: viewer,
      config: doc({
        summary: 'One incident with its SLA clocks and its whole timeline',
        params: idParamsSchema,
        responses: { 200: 'The incident', 401: 'No or a bad token', 404: 'No such incident' },
      }),
    },
    async (request) => {
      const { id } = parseOrThrow(idParamsSchema, request.params);
      const { incident, timeline } = await services.incidents.get(id);
      return { ...presentIncident(incident, services.clock.now()), timeline: presentTimeline(timeline) };
    },
  );

  app.post(
    '/api/v1/incidents',
    {
      preHandler: responder,
      config: doc({
        summary: 'Declare an incident by hand',
        description:
          'Its SLA clocks start at `started_at` (default now) and its escalation plan starts at once.',
        body: declareBodySchema,
        responses: {
          201: 'The incident',
          400: 'Invalid input (names the field)',
          401: 'No or a bad token',
          403: 'Needs responder',
          409: 'An open incident already has this dedup_key',
        },
      }),
    },
    async (request, reply) => {
      const body = parseOrThrow(declareBodySchema, request.body);
      const incident = await services.incidents.declare(
        { ...body, started_at: body.started_at ? new Date(body.started_at) : undefined },
        actorOf(request),
      );
      return reply.status(201).send(presentIncident(incident, services.clock.now()));
    },
  );

  for (const action of ACTIONS) {
    const docs = doc({
      summary: `${action[0]!.toUpperCase()}${action.slice(1)} an incident`,
      description:
        'Steps it skips are implied (resolving a triggered incident acknowledges and mitigates it).',
      params: idParamsSchema,
      body: actionBodySchema,
      responses: {
        200: 'The incident',
        401: 'No or a bad token',
        403: 'Needs responder',
        404: 'No such incident',
        409: 'Already done (says by whom and when)',
      },
    });
    app.post(`/api/v1/incidents/:id/${action}`, { preHandler: responder, config: docs }, async (request) => {
      const { id } = parseOrThrow(idParamsSchema, request.params);
      const { note } = parseOrThrow(actionBodySchema, request.body ?? {});
      const incident = await services.incidents.act(id, action, actorOf(request), note);
      return presentIncident(incident, services.clock.now());
    });
  }
}

/**
 * On-call API (`/api/v1/oncall`): who holds each role at a time, overrides (responders create and cancel them;
 * the creator is always the token's identity) and the escalation dry run. Thin routes — validate, authorize,
 * call OnCallService, present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { severitySchema } from '../../domain/policy/schema.js';
import type { RoleOnCall } from '../../services/oncall.js';
import { parseOrThrow } from '../../shared/validate.js';
import { actorOf, requireRole } from '../auth.js';
import type { RouteDoc } from '../openapi.js';
import type { AppServices } from '../context.js';

const instant = z.iso.datetime({
  offset: true,
  error: 'expected an ISO-8601 time with an offset, e.g. "2026-11-29T03:00:00Z"',
});

const atQuerySchema = z.object({ at: instant.optional() });

const simulateQuerySchema = z.object({ severity: severitySchema, at: instant.optional() });

const overridesQuerySchema = z.object({
  status: z.enum(['active', 'all']).default('active'),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

export const overrideBodySchema = z.strictObject({
  role: z.string().min(1, 'a role id is required'),
  person_id: z.string().min(1, 'a person id is required'),
  /** Default now; a time in the past is recorded as now. */
  starts_at: instant.optional(),
  ends_at: instant,
  reason: z.string().trim().min(1, 'a reason is required (it goes to the audit log)').max(1024),
});

const cancelBodySchema = z.strictObject({ note: z.string().max(1024).optional() }).default({});

const idParamsSchema = z.object({
  id: z.coerce.number().int().positive({ message: 'expected a positive override id' }),
});

/** The on-call answer as the API (and `guardia oncall --json`) shows it. */
export function presentOnCall(at: Date, timezone: string, roles: RoleOnCall[]) {
  return { at: at.toISOString(), timezone, roles };
}

export async function oncallRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const viewer = requireRole(services.tokens, 'viewer');
  const responder = requireRole(services.tokens, 'responder');

  app.get(
    '/api/v1/oncall',
    {
      preHandler: viewer,
      config: {
        doc: {
          tag: 'On-call',
          summary: 'Who holds each role now (or `at` a given time), overrides applied',
          query: atQuerySchema,
          responses: { 200: 'Each role and its holder', 400: 'A bad time', 401: 'No or a bad token' },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const query = parseOrThrow(atQuerySchema, request.query);
      const at = query.at ? new Date(query.at) : services.clock.now();
      return presentOnCall(at, services.policy.calendar.timezone, await services.oncall.whoIsOnCall(at));
    },
  );

  app.get(
    '/api/v1/oncall/simulate',
    {
      preHandler: viewer,
      config: {
        doc: {
          tag: 'On-call',
          summary: 'Who would be paged, when and how, for an incident of a severity (sends nothing)',
          query: simulateQuerySchema,
          responses: {
            200: 'The escalation plan with people and channels',
            400: 'Invalid input',
            401: 'No or a bad token',
          },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const query = parseOrThrow(simulateQuerySchema, request.query);
      const at = query.at ? new Date(query.at) : services.clock.now();
      return services.oncall.simulate(query.severity, at, services.env);
    },
  );

  app.get(
    '/api/v1/oncall/overrides',
    {
      preHandler: viewer,
      config: {
        doc: {
          tag: 'On-call',
          summary: 'On-call overrides',
          query: overridesQuerySchema,
          responses: { 200: '`{ overrides }`', 400: 'Invalid input', 401: 'No or a bad token' },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const query = parseOrThrow(overridesQuerySchema, request.query);
      return { overrides: await services.oncall.listOverrides(query) };
    },
  );

  app.post(
    '/api/v1/oncall/overrides',
    {
      preHandler: responder,
      config: {
        doc: {
          tag: 'On-call',
          summary: 'Put someone on call for a role for a while (audited)',
          body: overrideBodySchema,
          responses: {
            201: 'The override',
            400: 'Invalid input (names the field)',
            401: 'No or a bad token',
            403: 'Needs responder',
          },
        } satisfies RouteDoc,
      },
    },
    async (request, reply) => {
      const body = parseOrThrow(overrideBodySchema, request.body ?? {});
      const override = await services.oncall.createOverride(
        {
          role: body.role,
          person_id: body.person_id,
          ...(body.starts_at ? { starts_at: new Date(body.starts_at) } : {}),
          ends_at: new Date(body.ends_at),
          reason: body.reason,
        },
        actorOf(request),
      );
      return reply.status(201).send(override);
    },
  );

  app.post(
    '/api/v1/oncall/overrides/:id/cancel',
    {
      preHandler: responder,
      config: {
        doc: {
          tag: 'On-call',
          summary: 'Cancel an override',
          params: idParamsSchema,
          body: cancelBodySchema,
          responses: {
            200: 'The override',
            401: 'No or a bad token',
            403: 'Needs responder',
            404: 'No such override',
            409: 'Already cancelled or over',
          },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const { id } = parseOrThrow(idParamsSchema, request.params);
      const { note } = parseOrThrow(cancelBodySchema, request.body ?? {});
      return services.oncall.cancelOverride(id, actorOf(request), note);
    },
  );
}

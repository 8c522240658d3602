/**
 * Release gate API (`/api/v1/gate`): thin routes — validate, authorize, call GateService, present.
 * Asking the gate records the decision (a CI job asking is the event worth auditing); overrides need a responder,
 * and the requester is always the token's identity, so nobody can name someone else as the requester.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { overrideState, parseExpiry, type GateOverride } from '../../domain/gate/override.js';
import { parseOrThrow } from '../../shared/validate.js';
import { actorOf, requireRole } from '../auth.js';
import type { RouteDoc } from '../openapi.js';
import type { AppServices } from '../context.js';

export const overrideBodySchema = z
  .strictObject({
    reason: z.string().trim().min(1, 'a reason is required').max(2048),
    approver: z.string().trim().min(1, 'an approver is required').max(256),
    expires_at: z.iso.datetime({ offset: true }).optional(),
    expires_in: z.string().max(32).optional(),
  })
  .refine((b) => (b.expires_at === undefined) !== (b.expires_in === undefined), {
    message: 'give exactly one of expires_at (ISO-8601) or expires_in (e.g. "4h")',
    path: ['expires_at'],
  });

const overridesQuerySchema = z.object({ status: z.enum(['active', 'all']).default('all') });

const idParamsSchema = z.object({
  id: z.coerce.number().int().positive({ message: 'expected a positive override id' }),
});

/** An override as the API shows it, with whether it is in force now. */
export function presentOverride(o: GateOverride, now: Date): GateOverride & { state: string } {
  return { ...o, state: overrideState(o, now) };
}

export async function gateRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const viewer = requireRole(services.tokens, 'viewer');
  const responder = requireRole(services.tokens, 'responder');
  const admin = requireRole(services.tokens, 'admin');

  app.get(
    '/api/v1/gate',
    {
      preHandler: viewer,
      config: {
        doc: {
          tag: 'Gate',
          summary: 'May we release? The gate decision with every rule and its reason',
          description:
            'Answers 200 either way; `allowed` says the verdict. Every decision is kept in the audit log.',
          responses: { 200: '`{ allowed, rules, … }`', 401: 'No or a bad token' },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const ua = request.headers['user-agent'];
      return services.gate.evaluate({
        source: 'api',
        actor: actorOf(request),
        context: {
          request_id: request.id,
          ...(typeof ua === 'string' ? { user_agent: ua.slice(0, 200) } : {}),
        },
      });
    },
  );

  app.get(
    '/api/v1/gate/overrides',
    {
      preHandler: viewer,
      config: {
        doc: {
          tag: 'Gate',
          summary: 'Gate overrides, active or all',
          query: overridesQuerySchema,
          responses: { 200: '`{ overrides }`', 401: 'No or a bad token' },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const { status } = parseOrThrow(overridesQuerySchema, request.query);
      const now = services.clock.now();
      const overrides = await services.gate.listOverrides({ status });
      return { overrides: overrides.map((o) => presentOverride(o, now)) };
    },
  );

  app.post(
    '/api/v1/gate/overrides',
    {
      preHandler: responder,
      config: {
        doc: {
          tag: 'Gate',
          summary: 'Override the gate for a while, with a reason and an approver',
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
      const now = services.clock.now();
      const expires_at = body.expires_at
        ? new Date(body.expires_at)
        : parseExpiry(body.expires_in ?? '', now, 'expires_in');
      const override = await services.gate.createOverride({
        reason: body.reason,
        approved_by: body.approver,
        requested_by: actorOf(request),
        expires_at,
      });
      return reply.status(201).send(presentOverride(override, now));
    },
  );

  app.post(
    '/api/v1/gate/overrides/:id/revoke',
    {
      preHandler: admin,
      config: {
        doc: {
          tag: 'Gate',
          summary: 'Revoke an override before it expires',
          params: idParamsSchema,
          responses: {
            200: 'The override',
            401: 'No or a bad token',
            403: 'Needs admin',
            404: 'No such override',
            409: 'Already revoked or expired',
          },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const { id } = parseOrThrow(idParamsSchema, request.params);
      const override = await services.gate.revokeOverride(id, actorOf(request));
      return presentOverride(override, services.clock.now());
    },
  );
}

/**
 * What playbooks leave on an incident, over HTTP: `POST /api/v1/incidents/:id/findings` (a PlaybookReport, as
 * `guardia diagnose --json` prints it) and `POST /api/v1/incidents/:id/rca` (root cause and preventive action).
 * Thin routes: validate, authorize (responder), call the service, present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { playbookReportSchema, rcaBodySchema } from '../../services/playbooks.js';
import { parseOrThrow } from '../../shared/validate.js';
import { actorOf, requireRole } from '../auth.js';
import type { AppServices } from '../context.js';
import { presentIncident, presentTimeline } from '../present.js';

const idParamsSchema = z.object({
  id: z.coerce.number().int().positive({ message: 'expected a positive incident id' }),
});

export async function playbookRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const responder = requireRole(services.tokens, 'responder');

  app.post('/api/v1/incidents/:id/findings', { preHandler: responder }, async (request, reply) => {
    const { id } = parseOrThrow(idParamsSchema, request.params);
    const report = parseOrThrow(playbookReportSchema, request.body ?? {});
    const entry = await services.playbooks.attachReport(id, report, actorOf(request));
    return reply.status(201).send(presentTimeline([entry])[0]);
  });

  app.post('/api/v1/incidents/:id/rca', { preHandler: responder }, async (request) => {
    const { id } = parseOrThrow(idParamsSchema, request.params);
    const body = parseOrThrow(rcaBodySchema, request.body ?? {});
    const incident = await services.playbooks.recordRca(id, body, actorOf(request));
    return presentIncident(incident, services.clock.now());
  });
}

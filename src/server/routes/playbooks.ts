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
import type { RouteDoc } from '../openapi.js';
import type { AppServices } from '../context.js';
import { presentIncident, presentTimeline } from '../present.js';

const idParamsSchema = z.object({
  id: z.coerce.number().int().positive({ message: 'expected a positive incident id' }),
});

export async function playbookRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const responder = requireRole(services.tokens, 'responder');

  app.post(
    '/api/v1/incidents/:id/findings',
    {
      preHandler: responder,
      config: {
        doc: {
          tag: 'Incidents',
          summary: "Attach a playbook report (`guardia diagnose … --json`) to an incident's timeline",
          params: idParamsSchema,
          body: playbookReportSchema,
          responses: {
            201: 'The timeline entry',
            400: 'Not a report (names the field)',
            401: 'No or a bad token',
            403: 'Needs responder',
            404: 'No such incident',
          },
        } satisfies RouteDoc,
      },
    },
    async (request, reply) => {
      const { id } = parseOrThrow(idParamsSchema, request.params);
      const report = parseOrThrow(playbookReportSchema, request.body ?? {});
      const entry = await services.playbooks.attachReport(id, report, actorOf(request));
      return reply.status(201).send(presentTimeline([entry])[0]);
    },
  );

  app.post(
    '/api/v1/incidents/:id/rca',
    {
      preHandler: responder,
      config: {
        doc: {
          tag: 'Incidents',
          summary: 'Record the root cause and its fix (a second one replaces the first)',
          params: idParamsSchema,
          body: rcaBodySchema,
          responses: {
            200: 'The incident',
            400: 'Invalid input',
            401: 'No or a bad token',
            403: 'Needs responder',
            404: 'No such incident',
          },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const { id } = parseOrThrow(idParamsSchema, request.params);
      const body = parseOrThrow(rcaBodySchema, request.body ?? {});
      const incident = await services.playbooks.recordRca(id, body, actorOf(request));
      return presentIncident(incident, services.clock.now());
    },
  );
}

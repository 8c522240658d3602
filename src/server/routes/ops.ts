/**
 * Operability endpoints: liveness, readiness (the store answers), Prometheus metrics.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppServices } from '../context.js';
import type { RouteDoc } from '../openapi.js';

export async function opsRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const doc = (summary: string, responses: RouteDoc['responses']) => ({
    doc: { tag: 'Operations', summary, responses },
  });

  app.get(
    '/healthz',
    { config: doc('Liveness: the process answers', { 200: '`{ status: "ok" }`' }) },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/readyz',
    { config: doc('Readiness: the store answers', { 200: 'Ready', 503: 'The store does not answer' }) },
    async (_request, reply) => {
      try {
        await sql`select 1`.execute(services.store.db);
        return { status: 'ready', store: services.store.dialect };
      } catch {
        return reply.status(503).send({
          status: 'unavailable',
          error: { code: 'store_unavailable', message: 'the store does not answer' },
        });
      }
    },
  );

  services.metrics.collectProcessMetrics();
  app.get(
    '/metrics',
    {
      config: doc('Prometheus metrics: ingest counts, incidents by state and severity, HTTP, deliveries', {
        200: 'Prometheus text format',
      }),
    },
    async (_request, reply) => {
      const body = await services.metrics.registry.metrics();
      return reply.type(services.metrics.registry.contentType).send(body);
    },
  );
}

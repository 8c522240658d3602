/**
 * Operability endpoints: liveness, readiness (the store answers), Prometheus metrics.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppServices } from '../context.js';

export async function opsRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(services.store.db);
      return { status: 'ready', store: services.store.dialect };
    } catch {
      return reply.status(503).send({
        status: 'unavailable',
        error: { code: 'store_unavailable', message: 'the store does not answer' },
      });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await services.metrics.registry.metrics();
    return reply.type(services.metrics.registry.contentType).send(body);
  });
}

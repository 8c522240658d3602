/**
 * The HTTP server: Fastify with JSON logs carrying the request id, one error mapping, and the route plugins.
 */
import crypto from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { GuardiaError } from '../shared/errors.js';
import type { AppServices } from './context.js';
import { toGuardiaError } from './errors.js';
import { ackRoutes } from './routes/ack.js';
import { evidenceRoutes } from './routes/evidence.js';
import { gateRoutes } from './routes/gate.js';
import { hookRoutes } from './routes/hooks.js';
import { incidentRoutes } from './routes/incidents.js';
import { oncallRoutes } from './routes/oncall.js';
import { opsRoutes } from './routes/ops.js';
import { slackRoutes } from './routes/slack.js';

export interface AppOptions {
  /** A pino logger; none (tests) means no logs. */
  logger?: FastifyBaseLogger;
  bodyLimit?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the Fastify app around already-created services. */
export async function buildApp(services: AppServices, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Take the caller's X-Request-Id when it is sane (so one id follows a request across systems), else make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    requestIdHeader: false,
    // Fastify's own per-request lines are replaced by the single access-log line below.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // One access-log line per request; the query string is dropped because senders may put a token there.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpResponses.inc({ method: request.method, route, status: String(reply.statusCode) });
    request.log.info(
      {
        method: request.method,
        // An acknowledge link's token is a credential: its route pattern is logged instead of the path.
        path: route === '/ack/*' ? route : request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  app.setErrorHandler((err, request, reply) => {
    const error = toGuardiaError(err);
    if (error.httpStatus >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: error.code, message: error.message }, 'request refused');
    return reply.status(error.httpStatus).send(error.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new GuardiaError(
      'not_found',
      `no route for ${request.method} ${request.url.split('?')[0]}`,
    );
    return reply.status(404).send(error.toJSON());
  });

  await app.register(async (scope) => hookRoutes(scope, services));
  await app.register(async (scope) => slackRoutes(scope, services));
  await app.register(async (scope) => ackRoutes(scope, services));
  await app.register(async (scope) => incidentRoutes(scope, services));
  await app.register(async (scope) => oncallRoutes(scope, services));
  await app.register(async (scope) => evidenceRoutes(scope, services));
  await app.register(async (scope) => gateRoutes(scope, services));
  await app.register(async (scope) => opsRoutes(scope, services));
  return app;
}

/**
 * The HTTP side: fastify with request ids, CORS, signed cookies, tRPC at /api/trpc, /healthz, and the log lines
 * the playbooks read ("request completed", "procedure failed").
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { fingerprint } from './fingerprint.js';
import { summarizeInput } from './logger.js';
import { appRouter, type AppRouter } from './routers.js';
import { contextFactory, type AppDeps } from './trpc.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRPC_PREFIX = '/api/trpc';

/** fastify's own per-request lines are replaced by one "request completed" line in the contract's shape (see the
 *  hooks below); its error lines stay. */
class AppLogController extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(): void {}
  override routeNotFound(): void {}
}

export interface ServerDeps extends AppDeps {
  log: Logger;
  instanceId: () => string;
}

function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The URL as logged: auth procedures lose their query string (a login sent as GET would carry a password). */
function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q >= 0 && url.slice(0, q).startsWith(`${TRPC_PREFIX}/auth.`)) return `${url.slice(0, q)}?<redacted>`;
  return url.length > 2_048 ? `${url.slice(0, 2_048)}…` : url;
}

function errorLike(value: unknown): { type: string; message: string; stack?: string } {
  if (value instanceof Error)
    return { type: value.name || 'Error', message: value.message, stack: value.stack };
  return { type: typeof value, message: String(value) };
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, log } = deps;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new AppLogController({ requestIdLogLabel: 'reqId' }),
    trustProxy: config.trustProxy,
    genReqId: requestId,
    bodyLimit: 5 * 1024 * 1024,
    routerOptions: { maxParamLength: 500 },
  });

  const logged = new WeakSet<FastifyRequest>();
  const completed = (request: FastifyRequest, statusCode: number, responseTime: number) => {
    if (logged.has(request)) return;
    logged.add(request);
    request.log.info(
      { req: { method: request.method, url: loggedUrl(request.url) }, res: { statusCode }, responseTime },
      'request completed',
    );
  };
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Logged on send (before the client can read the response), so a test or an operator who reads the log right
  // after a response finds its line; onResponse covers replies that never went through onSend.
  app.addHook('onSend', async (request, reply, payload) => {
    const status =
      payload !== null && typeof payload === 'object' && payload instanceof Response
        ? payload.status
        : reply.statusCode;
    completed(request, status, reply.elapsedTime);
    return payload;
  });
  app.addHook('onResponse', async (request, reply) =>
    completed(request, reply.statusCode, reply.elapsedTime),
  );

  await app.register(cors, {
    origin: config.faults.corsAnyOrigin
      ? true
      : (origin, cb) =>
          cb(null, origin !== undefined && config.clientUrl !== null && origin === config.clientUrl),
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    exposedHeaders: ['X-Request-Id'],
    maxAge: 600,
  });
  await app.register(cookie, { secret: config.cookieSecret });

  await app.register(fastifyTRPCPlugin, {
    prefix: TRPC_PREFIX,
    trpcOptions: {
      router: appRouter,
      createContext: contextFactory(deps),
      onError({ error, path, input, req }) {
        const status = getHTTPStatusCodeFromError(error);
        const server = status >= 500;
        const cause = server && error.cause ? error.cause : error;
        const err = errorLike(cause);
        req.log[server ? 'error' : 'warn'](
          {
            procedure: path ?? null,
            path: req.url.split('?')[0],
            code: error.code,
            err: server ? err : { type: err.type, message: err.message },
            input: summarizeInput(input),
          },
          'procedure failed',
        );
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });

  app.get('/healthz', async () => ({
    ok: true,
    instance: deps.instanceId(),
    fingerprints: {
      JWT_SECRET: fingerprint(config.jwtSecret),
      COOKIE_SECRET: fingerprint(config.cookieSecret),
    },
    node_env: config.nodeEnv,
    trust_proxy: Boolean(config.trustProxy),
    worker: !config.faults.stalledQueue,
  }));

  return app;
}

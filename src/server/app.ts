/**
 * The HTTP server: Fastify with JSON logs carrying the request id, one error mapping, and the route plugins.
 */
import crypto from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { RateLimits } from '../config.js';
import type { Role } from '../services/tokens.js';
import { GuardiaError } from '../shared/errors.js';
import { scanJson, tooDeepMessage, wellFormed } from '../shared/json.js';
import { GUARDIA_VERSION } from '../version.js';
import { requireRole, requiredRoleOf } from './auth.js';
import type { AppServices } from './context.js';
import { toGuardiaError } from './errors.js';
import { openApiDocument, type RouteDoc } from './openapi.js';
import { ackRoutes } from './routes/ack.js';
import { evidenceRoutes } from './routes/evidence.js';
import { gateRoutes } from './routes/gate.js';
import { hookRoutes } from './routes/hooks.js';
import { incidentRoutes } from './routes/incidents.js';
import { oncallRoutes } from './routes/oncall.js';
import { opsRoutes } from './routes/ops.js';
import { playbookRoutes } from './routes/playbooks.js';
import { slackRoutes } from './routes/slack.js';

export interface AppOptions {
  /** A pino logger; none (tests) means no logs. */
  logger?: FastifyBaseLogger;
  bodyLimit?: number;
  /** Per-address limits (`guardia serve` passes GUARDIA_RATE_LIMIT_*); none (tests) means no limits. */
  rateLimits?: RateLimits;
}

/** One row of the route table: what `buildApp` registered and which role its preHandler requires. */
export interface RouteEntry {
  method: string;
  url: string;
  role?: Role;
  /** What the route says about itself for /api/v1/openapi.json. */
  doc?: RouteDoc;
}

const ROUTE_TABLES = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the app registered, in registration order (for the auth matrix and docs). */
export function routeTable(app: FastifyInstance): RouteEntry[] {
  return [...(ROUTE_TABLES.get(app) ?? [])];
}

/** The inbound doors a sender or a link scanner can hammer without an API token. */
const LIMITED_ROUTES = /^\/(hooks\/|v2\/enqueue$|ack\/)/;

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

  // The API's JSON parser: Fastify's own (refusing __proto__ and constructor.prototype keys) behind the checks
  // every inbound body gets (src/shared/json.ts).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const scan = scanJson(body as string);
    if (scan.tooDeep) return done(new GuardiaError('invalid_json', tooDeepMessage()), undefined);
    parseJson(request, body as string, (err, value) =>
      err ? done(err, undefined) : done(null, scan.surrogateEscape ? wellFormed(value) : value),
    );
  });

  const routes: RouteEntry[] = [];
  ROUTE_TABLES.set(app, routes);
  app.addHook('onRoute', (route) => {
    const role = requiredRoleOf(route.preHandler);
    for (const method of [route.method].flat())
      routes.push({
        method: String(method),
        url: route.url,
        ...(role ? { role } : {}),
        ...(route.config?.doc ? { doc: route.config.doc } : {}),
      });
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await registerRateLimits(app, services, options.rateLimits);
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
  await app.register(async (scope) => playbookRoutes(scope, services));
  await app.register(async (scope) => oncallRoutes(scope, services));
  await app.register(async (scope) => evidenceRoutes(scope, services));
  await app.register(async (scope) => gateRoutes(scope, services));
  await app.register(async (scope) => opsRoutes(scope, services));
  // Built on first request, from the route table: by then every route above is registered.
  let apiDocument: Record<string, unknown> | undefined;
  app.get(
    '/api/v1/openapi.json',
    {
      preHandler: requireRole(services.tokens, 'viewer'),
      config: {
        doc: {
          tag: 'Meta',
          summary: 'This API as an OpenAPI 3.1 document',
          responses: { 200: 'The document', 401: 'No or a bad token' },
        },
      },
    },
    async () => (apiDocument ??= openApiDocument(routes, GUARDIA_VERSION)),
  );
  return app;
}

/**
 * Two limits per client address, each per minute: requests to the inbound doors (hooks, PagerDuty enqueue, ack
 * links, Slack buttons), and failed API authentications — after too many 401s the address gets 429 on every
 * /api route until the minute is over. Answers are Guardia's error body with `retry-after` in seconds.
 */
async function registerRateLimits(
  app: FastifyInstance,
  services: AppServices,
  limits: RateLimits | undefined,
): Promise<void> {
  if (limits && limits.hooksPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      max: limits.hooksPerMinute,
      timeWindow: 60_000,
      allowList: (request) => !LIMITED_ROUTES.test(request.routeOptions.url ?? ''),
      errorResponseBuilder: (_request, context) =>
        new GuardiaError(
          'rate_limited',
          `too many requests from this address: at most ${context.max} a minute on the inbound endpoints (GUARDIA_RATE_LIMIT_HOOKS); retry in ${context.after}`,
        ),
    });
  }
  if (limits && limits.authFailuresPerMinute > 0) {
    const failures = new FailureWindow(limits.authFailuresPerMinute, 60_000);
    const isApi = (url: string) => url.startsWith('/api/');
    app.addHook('onRequest', async (request, reply) => {
      if (!isApi(request.url)) return;
      const wait = failures.blockedFor(request.ip, services.clock.now().getTime());
      if (wait === undefined) return;
      reply.header('retry-after', String(wait));
      throw new GuardiaError(
        'rate_limited',
        `too many failed authentications from this address: at most ${limits.authFailuresPerMinute} a minute (GUARDIA_RATE_LIMIT_AUTH_FAILURES); retry in ${wait} s`,
      );
    });
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401 && isApi(request.url))
        failures.record(request.ip, services.clock.now().getTime());
    });
  }
}

/** Counts failures per key in fixed windows; a key over the limit is blocked until its window ends. */
export class FailureWindow {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    /** Most keys kept; expired windows are dropped first, then the oldest (bounded memory under a flood). */
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds until `key` may try again, or undefined when it is not blocked. */
  blockedFor(key: string, now: number): number | undefined {
    const w = this.windows.get(key);
    if (!w || w.endsAt <= now || w.count < this.limit) return undefined;
    return Math.max(1, Math.ceil((w.endsAt - now) / 1000));
  }

  record(key: string, now: number): void {
    const w = this.windows.get(key);
    if (w && w.endsAt > now) {
      w.count++;
      return;
    }
    if (this.windows.size >= this.maxKeys) {
      for (const [k, v] of this.windows) if (v.endsAt <= now) this.windows.delete(k);
      while (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(key, { count: 1, endsAt: now + this.windowMs });
  }
}

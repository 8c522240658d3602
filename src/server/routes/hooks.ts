/**
 * Inbound alerts: `POST /hooks/{integration}` and the PagerDuty-compatible `POST /v2/enqueue`.
 * Bodies arrive as raw bytes (this plugin replaces the JSON parser) because signatures are computed over the
 * exact bytes sent. Order: find integration → authenticate → parse → store durably → answer 202.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { resolveSecret } from '../../domain/policy/load.js';
import type { IntegrationPolicy } from '../../domain/policy/schema.js';
import type { InboundRequest } from '../../ingest/adapter.js';
import { parseJsonBody, safeEqual } from '../../ingest/adapter.js';
import { pagerDutyToAlert, validatePagerDutyEvent } from '../../ingest/pagerduty.js';
import { adapterFor } from '../../ingest/registry.js';
import { GuardiaError } from '../../shared/errors.js';
import type { AppServices } from '../context.js';
import { toGuardiaError } from '../errors.js';
import type { RouteDoc } from '../openapi.js';

/** Largest inbound webhook body: 4 MiB (about 2,000 Alertmanager alerts in one group). */
export const HOOK_BODY_LIMIT = 4 * 1024 * 1024;

export async function hookRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Shutdown waits for deployment-review answers still in flight.
  app.addHook('onClose', async () => services.deploymentReviews.drain());

  const inbound = (request: {
    headers: InboundRequest['headers'];
    query: unknown;
    body: unknown;
  }): InboundRequest => ({
    headers: request.headers,
    query: (request.query ?? {}) as Record<string, string | undefined>,
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    receivedAt: services.clock.now(),
  });

  // Alertmanager and Grafana send whole groups in one request: allow more than the API's 1 MiB.
  app.post<{ Params: { integration: string } }>(
    '/hooks/:integration',
    {
      bodyLimit: HOOK_BODY_LIMIT,
      config: {
        doc: {
          tag: 'Alerts',
          summary:
            'Receive alerts from an integration of the policy (generic, Sentry, Alertmanager, GitHub, …)',
          description:
            'Authenticated per integration type (bearer token, HMAC signature over the raw body, or URL token). ' +
            'Answers 202 only once every alert is durably stored; a redelivery is answered 2xx as `duplicate`.',
          params: z.object({ integration: z.string().describe('An integration name from the policy') }),
          body: { raw: "The provider's own webhook body (README: one section per source)" },
          responses: {
            202: '`{ status: "accepted", results: [{ alert_id, incident_id, outcome, dedup_key }] }`',
            400: 'Malformed (says what is wrong)',
            401: 'Bad or missing signature or token',
            404: 'No such integration',
            413: 'Too large',
            429: 'Rate limited',
            503: 'The store is unavailable: retry',
          },
        },
      },
    },
    async (request, reply) => {
      const integration = services.policy.integrations.find((i) => i.name === request.params.integration);
      if (!integration) {
        const known = services.policy.integrations.map((i) => i.name).join(', ') || '(none)';
        throw new GuardiaError(
          'unknown_integration',
          `no integration named "${request.params.integration}"; configured: ${known}`,
        );
      }
      const req = inbound(request);
      if (integration.type === 'pagerduty') return pagerDuty(req, reply, [integration]);
      const adapter = adapterFor(integration.type);
      if (!adapter)
        throw new GuardiaError(
          'unknown_integration',
          `integration type "${integration.type}" has no adapter`,
        );
      try {
        adapter.authenticate(req, requireSecret(integration));
        const delivery = adapter.parse(req, integration);
        const results = await services.ingest.acceptDelivery(delivery);
        // Deployment protection rules are answered after the 202: the gate decision and the callback POST.
        const reviews = delivery.deploymentReviews ?? [];
        if (reviews.length > 0)
          services.deploymentReviews.start(reviews, `integration:${integration.name}`, request.log);
        return reply.status(202).send({
          status: 'accepted',
          results,
          workflow_runs: delivery.workflowRuns?.length ?? 0,
          ...(reviews.length > 0 ? { deployment_reviews: reviews.length } : {}),
        });
      } catch (err) {
        services.metrics.alertRejected(integration.name, toGuardiaError(err).code);
        throw err;
      }
    },
  );

  const enqueueDoc: RouteDoc = {
    tag: 'Alerts',
    summary: 'PagerDuty Events API v2: trigger, acknowledge or resolve (same bodies as PagerDuty)',
    description:
      "`routing_key` is a pagerduty-type integration's key. 202 only once the event is durably stored.",
    body: { raw: 'A PagerDuty Events API v2 event' },
    ownErrorFormat: true,
    responses: {
      202: '`{ status: "success", message: "Event processed", dedup_key }`',
      400: 'PagerDuty\'s `{ status: "invalid event", message, errors }`',
      429: 'Rate limited',
      503: 'The store is unavailable: retry',
    },
  };
  app.post('/v2/enqueue', { config: { doc: enqueueDoc } }, async (request, reply) => {
    const integrations = services.policy.integrations.filter((i) => i.type === 'pagerduty');
    return pagerDuty(inbound(request), reply, integrations);
  });

  /** PagerDuty Events v2: the routing_key selects (and authenticates) the integration. */
  async function pagerDuty(req: InboundRequest, reply: FastifyReply, candidates: IntegrationPolicy[]) {
    let body: unknown;
    try {
      body = parseJsonBody(req);
    } catch (err) {
      return invalidEvent(reply, 400, [(err as Error).message], 'invalid_json');
    }
    const { event, errors } = validatePagerDutyEvent(body);
    if (!event) return invalidEvent(reply, 400, errors, 'invalid_input');
    const configured = candidates.filter((i) => resolveSecret(i.secret, services.env));
    if (configured.length === 0) {
      const vars =
        candidates.map((i) => i.secret.env).join(' or ') || 'a pagerduty integration in the policy';
      return invalidEvent(
        reply,
        401,
        [`PagerDuty events are refused: set ${vars} on the Guardia server`],
        'unauthenticated',
      );
    }
    const integration = configured.find((i) =>
      safeEqual(event.routing_key, resolveSecret(i.secret, services.env)!),
    );
    if (!integration)
      return invalidEvent(
        reply,
        401,
        ["'routing_key' does not match this Guardia's routing key"],
        'unauthenticated',
      );
    const result = await services.ingest.accept(pagerDutyToAlert(event, integration));
    return reply
      .status(202)
      .send({ status: 'success', message: 'Event processed', dedup_key: result.dedup_key });
  }

  function invalidEvent(
    reply: FastifyReply,
    status: number,
    errors: string[],
    code: 'invalid_json' | 'invalid_input' | 'unauthenticated',
  ) {
    services.metrics.alertRejected('pagerduty', code);
    const message = status === 400 ? 'Event object is invalid' : 'Unauthorized';
    return reply.status(status).send({
      status: status === 400 ? 'invalid event' : 'unauthorized',
      message,
      errors,
      error: { code, message: errors.join('; ') },
    });
  }

  function requireSecret(integration: IntegrationPolicy): string {
    const secret = resolveSecret(integration.secret, services.env);
    if (!secret) {
      throw new GuardiaError(
        'unauthenticated',
        `integration "${integration.name}" refuses all requests until its secret is set: set the environment variable ${integration.secret.env} on the Guardia server`,
      );
    }
    return secret;
  }
}

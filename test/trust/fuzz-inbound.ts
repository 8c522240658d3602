/**
 * Hostile input on every inbound endpoint, property-based (fast-check, fixed seed): every `/hooks/{integration}`
 * of the default policy with that integration's correct credentials (a bearer token, or an HMAC signature computed
 * here over the fuzzed bytes), so the PARSER is what gets fuzzed; `/v2/enqueue`; Slack interactions, correctly
 * signed; the acknowledge-link routes (tokens random, altered, or validly signed around arbitrary claims); and the
 * JSON API's writing routes with an admin token, plus every GET /api route with random query strings.
 * Bodies: provider fixtures with fields replaced / deleted / given `__proto__` keys, arbitrary JSON, 10,000-deep
 * nesting as raw text, huge strings, NUL and lone surrogates, invalid UTF-8, random bytes, wrong content types.
 * Always: no 5xx, /healthz still answers, no prototype polluted. Used by test/trust/fuzz-inbound.test.ts (npm run
 * test:trust, bounded) and test/chaos/fuzz-inbound-long.test.ts (npm run test:chaos, more runs and a fresh seed).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { expect } from 'vitest';
import { createAckToken } from '../../src/notify/ack-link.js';
import { slackSignature } from '../../src/notify/slack-interactivity.js';
import { routeTable } from '../../src/server/app.js';
import type { Dialect } from '../../src/store/db.js';
import { bearer, startTestApp, type TestApp } from '../helpers/harness.js';
import { FuzzTally, fixture, hmacHex, hostileBody, prototypeSnapshot, type HostileBody } from './fuzz-kit.js';

/** Every integration secret set, each to its own value. */
export const FUZZ_ENV: Record<string, string> = {
  SENTRY_CLIENT_SECRET: 'fuzz-sentry-client-secret-7f3a',
  SENTRY_LEGACY_TOKEN: 'fuzz-sentry-legacy-token-19c2',
  UPTIME_KUMA_TOKEN: 'fuzz-uptime-kuma-token-5d0e',
  UPTIMEROBOT_TOKEN: 'fuzz-uptimerobot-token-8b41',
  BETTERSTACK_TOKEN: 'fuzz-betterstack-token-2e77',
  GITHUB_WEBHOOK_SECRET: 'fuzz-github-webhook-secret-a9d3',
  ALERTMANAGER_TOKEN: 'fuzz-alertmanager-token-6c18',
  GRAFANA_WEBHOOK_SECRET: 'fuzz-grafana-webhook-secret-0f5b',
  GENERIC_TOKEN: 'fuzz-generic-token-3a6d',
  PAGERDUTY_ROUTING_KEY: 'FUZZR0UT1NGKEY0123456789abcdef01',
  SLACK_SIGNING_SECRET: 'fuzz-slack-signing-secret-4e92',
};

interface FuzzRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  payload?: Buffer;
  kind: string;
}

/** Keeps fast-check's counterexample report short (bodies can be megabytes). */
function described(req: FuzzRequest): FuzzRequest {
  const body = req.payload ? req.payload.subarray(0, 300).toString('utf8') : '';
  return Object.assign(req, {
    [fc.toStringMethod]: () =>
      `${req.method} ${req.url.slice(0, 200)} [${req.kind}, ${req.payload?.length ?? 0} B, ${req.headers['content-type'] ?? '-'}] ${JSON.stringify(body)}`,
  });
}

function post(url: string, body: HostileBody, headers: Record<string, string> = {}): FuzzRequest {
  return described({
    method: 'POST',
    url,
    headers: { ...(body.contentType ? { 'content-type': body.contentType } : {}), ...headers },
    payload: body.bytes,
    kind: body.kind,
  });
}

const PD_EVENT = {
  routing_key: FUZZ_ENV.PAGERDUTY_ROUTING_KEY,
  event_action: 'trigger',
  dedup_key: 'fuzz-disk',
  payload: { summary: 'Disk 95% on db-1', source: 'db-1', severity: 'error', custom_details: { free: '5%' } },
  links: [{ href: 'https://grafana.example.com/d/1', text: 'Dashboard' }],
};
const GENERIC_ALERT = {
  title: 'Checkout returns 500',
  severity: 'sev2',
  dedup_key: 'fuzz-checkout',
  status: 'firing',
  source: 'api',
  details: { region: 'eu' },
  links: [{ href: 'https://status.example.com', text: 'Status' }],
  occurred_at: '2026-11-27T09:59:00Z',
};

/** Bodies by integration type (more than one fixture where the provider sends several shapes). */
const TEMPLATES: Record<string, { body: unknown; headers?: Record<string, string> }[]> = {
  'sentry-legacy': [fixture('sentry-legacy-webhooks-plugin.json')],
  'uptime-kuma': [fixture('uptime-kuma-down.json'), fixture('uptime-kuma-up.json')],
  uptimerobot: [fixture('uptimerobot-down.json'), fixture('uptimerobot-up.json')],
  betterstack: [fixture('betterstack-incident-started.json')],
  alertmanager: [fixture('alertmanager-firing.json'), fixture('alertmanager-resolved.json')],
  generic: [{ body: GENERIC_ALERT }],
  pagerduty: [{ body: PD_EVENT }],
  grafana: [fixture('grafana-firing.json')],
  sentry: [
    fixture('sentry-issue-created.json'),
    fixture('sentry-error-created.json'),
    fixture('sentry-metric-alert-resolved.json'),
  ],
  github: [fixture('github-workflow-run-completed.json'), fixture('github-deployment-protection-rule.json')],
};

const BEARER_TYPES = new Set([
  'sentry-legacy',
  'uptime-kuma',
  'uptimerobot',
  'betterstack',
  'alertmanager',
  'generic',
]);

const SENTRY_RESOURCES = [
  'issue',
  'event_alert',
  'metric_alert',
  'error',
  'installation',
  'ISSUE ',
  '',
  '\u00e9',
];
const GITHUB_EVENTS = [
  'workflow_run',
  'deployment_protection_rule',
  'ping',
  'push',
  'WORKFLOW_RUN',
  'x'.repeat(300),
];

/** The request for `/hooks/{name}` of an integration type, with that integration's correct credentials. */
function hookArb(
  name: string,
  type: string,
  secret: string,
  nowSeconds: () => number,
): fc.Arbitrary<FuzzRequest> {
  const templates = TEMPLATES[type];
  if (!templates) throw new Error(`no fuzz template for integration type "${type}": add one to TEMPLATES`);
  const url = `/hooks/${name}`;
  const bodies = fc.constantFrom(...templates).chain((t) => hostileBody(t.body));
  if (BEARER_TYPES.has(type) || type === 'pagerduty')
    return bodies.map((b) => post(url, b, type === 'pagerduty' ? {} : bearer(secret)));
  if (type === 'sentry')
    return fc
      .tuple(bodies, fc.constantFrom(...SENTRY_RESOURCES))
      .map(([b, resource]) =>
        post(url, b, { 'sentry-hook-resource': resource, 'sentry-hook-signature': hmacHex(secret, b.bytes) }),
      );
  if (type === 'github')
    return fc
      .tuple(bodies, fc.constantFrom(...GITHUB_EVENTS), fc.oneof(fc.uuid(), fc.string({ maxLength: 80 })))
      .map(([b, event, delivery]) =>
        post(url, b, {
          'x-github-event': event,
          'x-github-delivery': delivery.replace(/[^\x21-\x7e]/g, '_') || '_',
          'x-hub-signature-256': `sha256=${hmacHex(secret, b.bytes)}`,
        }),
      );
  if (type === 'grafana')
    return fc.tuple(bodies, fc.boolean()).map(([b, withTimestamp]) => {
      const ts = String(nowSeconds());
      return post(
        url,
        b,
        withTimestamp
          ? {
              'x-grafana-alerting-signature-timestamp': ts,
              'x-grafana-alerting-signature': hmacHex(secret, `${ts}:`, b.bytes),
            }
          : { 'x-grafana-alerting-signature': hmacHex(secret, b.bytes) },
      );
    });
  throw new Error(`no credentials for integration type "${type}" in the fuzz test: add them`);
}

/** Signs an arbitrary ack-link payload exactly as src/notify/ack-link.ts does. */
function signedAckToken(claims: unknown, secretKey: string): string {
  const payload = Buffer.from(JSON.stringify(claims) ?? 'null').toString('base64url');
  const key = crypto.createHmac('sha256', secretKey).update('guardia:ack-link:v1').digest();
  return `${payload}.${crypto.createHmac('sha256', key).update(payload).digest('base64url')}`;
}

const idSegment = fc.oneof(
  fc.constantFrom('1', '2', '3', '0', '-1', '1.5', '9007199254740993', '1e3', '0x1', '%00', '%2e%2e', 'null'),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => encodeURIComponent(s) || '_'),
);

const queryArb = fc
  .array(
    fc.tuple(
      fc.constantFrom('status', 'severity', 'limit', 'before', 'period', 'at', 'token', '__proto__', 'x'),
      fc.oneof(
        fc.constantFrom(
          'all',
          'open',
          'sev1',
          '-1',
          '0',
          '501',
          '1e400',
          '2026-W99',
          '2026-13',
          'now',
          '\u0000',
          '[]',
        ),
        fc.string({ unit: 'binary', maxLength: 100 }),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => new URLSearchParams(pairs).toString());

function apiPost(path: fc.Arbitrary<string>, template: unknown, token: string): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(path, hostileBody(template)).map(([url, b]) => post(url, b, bearer(token)));
}

/**
 * Fuzzes every inbound endpoint of a fresh app on `dialect` with `runs` inputs each; counts into `tally`. Throws
 * (with the input, the answer and the server's error log) at the first 5xx, or when /healthz stops answering or a
 * prototype changed.
 */
export async function fuzzInbound(
  dialect: Dialect,
  runs: number,
  seed: number,
  tally: FuzzTally,
): Promise<void> {
  // Errors the server logs, to show with a 5xx (the app logs every 5xx with its cause at level error).
  const errors: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      errors.push(chunk.toString('utf8').slice(0, 4000));
      if (errors.length > 20) errors.shift();
      done();
    },
  });
  const t: TestApp = await startTestApp(dialect, { env: FUZZ_ENV, logStream, logLevel: 'error' });
  try {
    const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);
    for (const title of ['Checkout down', 'Disk full', 'Queue backlog'])
      await t.services.incidents.declare({ title, severity: 'sev2' }, 'token:fuzz');
    const admin = t.tokens.admin;
    const secretKey = t.services.settings.secretKey;
    const validAck = createAckToken(
      { incidentId: 1, personId: 'eng-lead', expiresAt: new Date(t.clock.now().getTime() + 3_600_000) },
      secretKey,
    );
    const blockActions = fixture('slack-block-actions.json').body as { actions: { value: string }[] };
    const slackTemplate = structuredClone(blockActions);
    slackTemplate.actions[0]!.value = '2';

    const endpoints: [string, fc.Arbitrary<FuzzRequest>][] = [];
    for (const integration of t.policy.integrations)
      endpoints.push([
        `POST /hooks/${integration.name}`,
        hookArb(integration.name, integration.type, FUZZ_ENV[integration.secret.env]!, nowSeconds),
      ]);
    endpoints.push(
      [
        'POST /hooks/{unknown}',
        fc
          .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }), hostileBody(GENERIC_ALERT))
          .map(([name, b]) => post(`/hooks/${encodeURIComponent(name)}`, b, bearer(FUZZ_ENV.GENERIC_TOKEN!))),
      ],
      ['POST /v2/enqueue', hostileBody(PD_EVENT).map((b) => post('/v2/enqueue', b))],
      [
        'POST /hooks/slack/interactions',
        hostileBody(slackTemplate, (json) => `payload=${encodeURIComponent(json)}`).map((b) => {
          const ts = String(nowSeconds());
          return post('/hooks/slack/interactions', b, {
            'content-type': 'application/x-www-form-urlencoded',
            'x-slack-request-timestamp': ts,
            'x-slack-signature': slackSignature(FUZZ_ENV.SLACK_SIGNING_SECRET!, ts, b.bytes),
          });
        }),
      ],
    );
    const ackToken = fc.oneof(
      fc
        .string({ unit: 'binary', maxLength: 300 })
        .map((s) => ({ kind: 'random', token: encodeURIComponent(s) })),
      fc.tuple(fc.nat(), fc.constantFrom('A', '_', '-', '.', '%2F', '')).map(([i, c]) => {
        const at = i % validAck.length;
        return { kind: 'altered', token: validAck.slice(0, at) + c + validAck.slice(at + 1) };
      }),
      fc
        .jsonValue({ maxDepth: 3 })
        .map((claims) => ({ kind: 'signed-arbitrary', token: signedAckToken(claims, secretKey) })),
      fc
        .record({
          i: fc.constantFrom<unknown>(1, 2, 3, 999, 0, -1, 2 ** 53, 1.5, '1', null),
          p: fc.constantFrom<unknown>('eng-lead', 'sre', 'nobody', '', '__proto__', 'constructor', 7),
          e: fc.constantFrom<unknown>(nowSeconds() + 3600, nowSeconds() - 1, 2 ** 60, '1', null),
        })
        .map((claims) => ({ kind: 'signed-claims', token: signedAckToken(claims, secretKey) })),
    );
    endpoints.push(
      [
        'GET /ack/*',
        ackToken.map(({ kind, token }) =>
          described({ method: 'GET', url: `/ack/${token}`, headers: {}, kind }),
        ),
      ],
      [
        'POST /ack/*',
        fc
          .tuple(
            ackToken,
            fc.uint8Array({ maxLength: 20_000 }),
            fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'),
          )
          .map(([{ kind, token }, body, type]) =>
            described({
              method: 'POST',
              url: `/ack/${token}`,
              headers: { 'content-type': type },
              payload: Buffer.from(body),
              kind,
            }),
          ),
      ],
      [
        'POST /api/v1/incidents',
        apiPost(
          fc.constant('/api/v1/incidents'),
          {
            title: 'Checkout down',
            severity: 'sev2',
            dedup_key: 'fuzz-declared',
            started_at: '2026-11-27T09:55:00Z',
            details: { a: 1 },
            links: [{ href: 'https://x.example', text: 'x' }],
          },
          admin,
        ),
      ],
    );
    for (const action of ['acknowledge', 'mitigate', 'resolve'])
      endpoints.push([
        `POST /api/v1/incidents/:id/${action}`,
        apiPost(
          idSegment.map((id) => `/api/v1/incidents/${id}/${action}`),
          { note: 'fuzz note' },
          admin,
        ),
      ]);
    endpoints.push(
      [
        'POST /api/v1/evidence',
        apiPost(
          fc.constant('/api/v1/evidence'),
          {
            requirement_id: 'access-review',
            period: '2026-11',
            status: 'success',
            summary: '14 accounts, 2 removed',
            links: [{ href: 'https://x.example/review', text: 'review' }],
            data: { reviewed: 14 },
            attachments: [{ filename: 'review.txt', content_type: 'text/plain', content_base64: 'aGVsbG8=' }],
          },
          admin,
        ),
      ],
      [
        'POST /api/v1/evidence/reviews',
        apiPost(
          fc.constant('/api/v1/evidence/reviews'),
          { week: '2026-W48', note: 'Reviewed by Ana' },
          admin,
        ),
      ],
      [
        'POST /api/v1/gate/overrides',
        apiPost(
          fc.constant('/api/v1/gate/overrides'),
          { reason: 'CVE hotfix', approver: 'Jane Doe', expires_in: '4h' },
          admin,
        ),
      ],
      [
        'POST /api/v1/gate/overrides/:id/revoke',
        apiPost(
          idSegment.map((id) => `/api/v1/gate/overrides/${id}/revoke`),
          {},
          admin,
        ),
      ],
      [
        'POST /api/v1/oncall/overrides',
        apiPost(
          fc.constant('/api/v1/oncall/overrides'),
          { role: 'primary', person_id: 'sre', ends_at: '2026-11-28T10:00:00Z', reason: 'holiday swap' },
          admin,
        ),
      ],
      [
        'POST /api/v1/oncall/overrides/:id/cancel',
        apiPost(
          idSegment.map((id) => `/api/v1/oncall/overrides/${id}/cancel`),
          { note: 'back' },
          admin,
        ),
      ],
    );
    endpoints.push(
      [
        'POST /api/v1/incidents/:id/findings',
        apiPost(
          idSegment.map((id) => `/api/v1/incidents/${id}/findings`),
          {
            playbook: 'login',
            started_at: '2026-11-27T10:00:00Z',
            finished_at: '2026-11-27T10:00:01Z',
            status: 'fail',
            findings: [
              {
                id: 'login.trust_proxy',
                playbook: 'login',
                group: { en: 'Cookies', es: 'Cookies' },
                title: { en: 'TRUST_PROXY', es: 'TRUST_PROXY' },
                status: 'fail',
                summary: { en: 'no Set-Cookie', es: 'sin Set-Cookie' },
                evidence: { login: { status: 200 } },
                mitigation: { en: 'fix TRUST_PROXY', es: 'corregir TRUST_PROXY' },
                duration_ms: 12,
              },
            ],
          },
          admin,
        ),
      ],
      [
        'POST /api/v1/incidents/:id/rca',
        apiPost(
          idSegment.map((id) => `/api/v1/incidents/${id}/rca`),
          { root_cause: 'a lead without email', preventive_action: 'validate input' },
          admin,
        ),
      ],
    );
    // Every POST route under /api is fuzzed: a new route must be added above, not forgotten.
    const fuzzed = new Set(endpoints.map(([name]) => name));
    for (const r of routeTable(t.app).filter((r) => r.method === 'POST' && r.url.startsWith('/api/')))
      expect(fuzzed.has(`POST ${r.url}`), `POST ${r.url} is not fuzzed`).toBe(true);

    const getRoutes = routeTable(t.app).filter((r) => r.method === 'GET' && r.url.startsWith('/api/'));
    expect(getRoutes.length).toBeGreaterThan(5);
    endpoints.push([
      `GET /api/v1/* (${getRoutes.length} routes, query strings)`,
      fc.tuple(fc.constantFrom(...getRoutes), idSegment, queryArb).map(([r, id, q]) =>
        described({
          method: 'GET',
          url: `${r.url.replace(':id', id)}${q ? `?${q}` : ''}`,
          headers: bearer(admin),
          kind: 'query',
        }),
      ),
    ]);

    const protoBefore = prototypeSnapshot();
    for (const [name, arb] of endpoints) {
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          const res = await t.app.inject({
            method: req.method,
            url: req.url,
            headers: req.headers,
            payload: req.payload,
          });
          tally.add(name, req.kind, res.statusCode);
          if (res.statusCode >= 500) {
            // Keep the whole input for reproduction: the report shows only its start.
            const file = path.join(os.tmpdir(), `guardia-fuzz-failure-${dialect}-${process.pid}.json`);
            fs.writeFileSync(file, JSON.stringify({ ...req, payload: req.payload?.toString('base64') }));
            throw new Error(
              `${name}: ${res.statusCode} ${res.body.slice(0, 300)} for ${fc.stringify(req)}\n(input saved in ${file})\nserver log: ${errors.slice(-2).join('\n')}`,
            );
          }
        }),
        { seed, numRuns: runs, endOnFailure: true },
      );
      const health = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode, `/healthz after ${name}`).toBe(200);
      expect(prototypeSnapshot(), `prototypes after ${name}`).toBe(protoBefore);
      expect(({} as Record<string, unknown>).polluted, `Object.prototype after ${name}`).toBeUndefined();
    }
    // The doors with credentials must have let most inputs through to the parser (else the fuzz tested auth only).
    for (const integration of t.policy.integrations) {
      const row = tally.rows.get(`POST /hooks/${integration.name}`)!;
      const unauthenticated = row.statuses.get(401) ?? 0;
      expect(unauthenticated / row.total, `401 share on /hooks/${integration.name}`).toBeLessThan(0.5);
    }
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  } finally {
    await t.close();
  }
}

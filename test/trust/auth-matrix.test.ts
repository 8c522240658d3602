/**
 * Who may call what, generated from the route table (src/server/app.ts `routeTable`, filled by an onRoute hook as
 * the app registers its routes, with the role each route's `requireRole` preHandler declares):
 * - every /api route × {no token, viewer, responder, admin}: no token → 401, below the declared role → 403,
 *   at or above it → neither 401 nor 403; an /api route with no declared role fails the test;
 * - every other route is either open on purpose (an allow-list with the reason) or guarded by its own credential
 *   (integration secret, Slack signing secret, signed acknowledge link), and refuses a caller without it.
 * Webhook signatures: the cells not covered by the adapter tests (a replayed Slack press after the 300 s window, a
 * truncated real Slack signature, a truncated real Sentry / GitHub / Grafana signature over HTTP). Wrong, stale and
 * replayed-within-window cases live in test/unit/ingest-{sentry,github,grafana}.test.ts and
 * test/medium/slack-interactions.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackSignature } from '../../src/notify/slack-interactivity.js';
import { routeTable, type RouteEntry } from '../../src/server/app.js';
import { roleAllows, ROLES, type Role } from '../../src/services/tokens.js';
import { bearer, startTestApp, type TestApp } from '../helpers/harness.js';
import { fixture, hmacHex } from './fuzz-kit.js';

/** Routes anyone may call, and why. */
const OPEN: Record<string, string> = {
  'GET /healthz': 'liveness probe for load balancers and orchestrators; says nothing but "ok"',
  'HEAD /healthz': 'the same probe without a body',
  'GET /readyz': 'readiness probe: whether the store answers',
  'HEAD /readyz': 'the same probe without a body',
  'GET /metrics':
    'Prometheus scrape (counters only, no incident data); restrict at the network like any exporter',
  'HEAD /metrics': 'the same scrape without a body',
};

/** Routes guarded by their own credential instead of an API token, with a request lacking it. */
const OWN_CREDENTIAL: Record<string, { why: string; url: string; payload?: string }> = {
  'POST /hooks/:integration': {
    why: "the integration's secret (bearer token or HMAC signature)",
    url: '/hooks/generic',
    payload: '{"title":"x"}',
  },
  'POST /v2/enqueue': {
    why: 'the PagerDuty routing key in the body',
    url: '/v2/enqueue',
    payload:
      '{"routing_key":"wrong","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"error"}}',
  },
  'POST /hooks/slack/interactions': {
    why: 'the Slack signing secret (v0 signature)',
    url: '/hooks/slack/interactions',
    payload: 'payload=%7B%7D',
  },
  'GET /ack/*': { why: 'the signed acknowledge link itself', url: '/ack/not.a-token' },
  'HEAD /ack/*': { why: 'the signed acknowledge link itself', url: '/ack/not.a-token' },
  'POST /ack/*': { why: 'the signed acknowledge link itself', url: '/ack/not.a-token', payload: '' },
};

const SECRETS = {
  GENERIC_TOKEN: 'matrix-generic-token',
  PAGERDUTY_ROUTING_KEY: 'MATRIXR0UT1NGKEY0123456789abcdef',
  SENTRY_CLIENT_SECRET: 'matrix-sentry-secret',
  GITHUB_WEBHOOK_SECRET: 'matrix-github-secret',
  GRAFANA_WEBHOOK_SECRET: 'matrix-grafana-secret',
  SLACK_SIGNING_SECRET: 'matrix-slack-secret',
};

const key = (r: RouteEntry) => `${r.method} ${r.url}`;

describe('auth matrix generated from the route table', () => {
  let t: TestApp;
  let routes: RouteEntry[];
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: SECRETS });
    await t.services.incidents.declare({ title: 'Matrix', severity: 'sev3' }, 'token:test');
    routes = routeTable(t.app);
  });
  afterAll(async () => t.close());

  it('every /api route × {no token, viewer, responder, admin}: 401 / 403 / allowed exactly as its declared role says', async () => {
    const api = routes.filter((r) => r.url.startsWith('/api/'));
    expect(api.length).toBeGreaterThanOrEqual(20);
    const undeclared = api.filter((r) => !r.role).map(key);
    expect(undeclared, 'API routes without a declared role (requireRole)').toEqual([]);

    const callers: (Role | 'none')[] = ['none', ...ROLES];
    const rows: string[] = [];
    let checked = 0;
    const failures: string[] = [];
    for (const route of api) {
      const url = route.url.replace(/:[a-z_]+/g, '1');
      const cells: string[] = [];
      for (const caller of callers) {
        const res = await t.app.inject({
          method: route.method as 'GET',
          url,
          headers: {
            ...(caller === 'none' ? {} : bearer(t.tokens[caller])),
            ...(route.method === 'POST' ? { 'content-type': 'application/json' } : {}),
          },
          ...(route.method === 'POST' ? { payload: '{}' } : {}),
        });
        checked++;
        const expected = caller === 'none' ? '401' : roleAllows(caller, route.role!) ? 'allowed' : '403';
        const ok =
          expected === 'allowed'
            ? res.statusCode !== 401 && res.statusCode !== 403 && res.statusCode < 500
            : res.statusCode === Number(expected);
        if (!ok)
          failures.push(
            `${key(route)} as ${caller}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 200)}`,
          );
        cells.push(String(res.statusCode));
      }
      rows.push(`| ${key(route)} | ${route.role} | ${cells.join(' | ')} |`);
    }
    console.log(
      [
        `\nAuth matrix: ${api.length} /api routes × ${callers.length} callers = ${checked} checks`,
        `| route | role | ${callers.join(' | ')} |`,
        `| --- | --- | ${callers.map(() => '---').join(' | ')} |`,
        ...rows,
      ].join('\n'),
    );
    expect(failures).toEqual([]);
    expect(checked).toBe(api.length * callers.length);
  });

  it('every other route is open on purpose (with a reason) or refuses a caller without its own credential', async () => {
    const others = routes.filter((r) => !r.url.startsWith('/api/'));
    const unexplained = others.map(key).filter((k) => !(k in OPEN) && !(k in OWN_CREDENTIAL));
    expect(
      unexplained,
      'routes outside /api that are neither open on purpose nor guarded by their own credential',
    ).toEqual([]);
    for (const route of others) {
      const k = key(route);
      if (k in OPEN) {
        const res = await t.app.inject({ method: route.method as 'GET', url: route.url });
        expect(res.statusCode, k).toBe(200);
        continue;
      }
      const guard = OWN_CREDENTIAL[k]!;
      const res = await t.app.inject({
        method: route.method as 'GET',
        url: guard.url,
        ...(guard.payload !== undefined
          ? { payload: guard.payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } }
          : {}),
      });
      expect(res.statusCode, `${k} without ${guard.why}`).toBe(401);
    }
    console.log(
      `Routes outside /api: ${others.length} (${Object.keys(OPEN).length} open on purpose, the rest guarded by their own credential, each refused without it)`,
    );
  });
});

describe('webhook signatures: the cells the adapter tests do not cover', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: SECRETS });
  });
  afterAll(async () => t.close());
  const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);

  it('a truncated real signature is refused on every signed door (Sentry, GitHub, Grafana, Slack)', async () => {
    const sentry = fixture('sentry-issue-created.json');
    const sentryBody = JSON.stringify(sentry.body);
    const github = fixture('github-workflow-run-completed.json');
    const githubBody = JSON.stringify(github.body);
    const grafanaBody = JSON.stringify(fixture('grafana-firing.json').body);
    const ts = String(nowSeconds());
    const slackBody = 'payload=%7B%7D';
    const cases: {
      name: string;
      url: string;
      body: string;
      headers: (cut: (s: string) => string) => Record<string, string>;
    }[] = [
      {
        name: 'sentry',
        url: '/hooks/sentry',
        body: sentryBody,
        headers: (cut) => ({
          'sentry-hook-resource': 'issue',
          'sentry-hook-signature': cut(hmacHex(SECRETS.SENTRY_CLIENT_SECRET, sentryBody)),
        }),
      },
      {
        name: 'github',
        url: '/hooks/github',
        body: githubBody,
        headers: (cut) => ({
          'x-github-event': 'workflow_run',
          'x-github-delivery': 'matrix-1',
          'x-hub-signature-256': cut(`sha256=${hmacHex(SECRETS.GITHUB_WEBHOOK_SECRET, githubBody)}`),
        }),
      },
      {
        name: 'grafana',
        url: '/hooks/grafana',
        body: grafanaBody,
        headers: (cut) => ({
          'x-grafana-alerting-signature-timestamp': ts,
          'x-grafana-alerting-signature': cut(hmacHex(SECRETS.GRAFANA_WEBHOOK_SECRET, `${ts}:`, grafanaBody)),
        }),
      },
      {
        name: 'slack',
        url: '/hooks/slack/interactions',
        body: slackBody,
        headers: (cut) => ({
          'x-slack-request-timestamp': ts,
          'x-slack-signature': cut(slackSignature(SECRETS.SLACK_SIGNING_SECRET, ts, slackBody)),
        }),
      },
    ];
    for (const c of cases) {
      const send = (cut: (s: string) => string) =>
        t.app.inject({
          method: 'POST',
          url: c.url,
          headers: {
            'content-type': c.name === 'slack' ? 'application/x-www-form-urlencoded' : 'application/json',
            ...c.headers(cut),
          },
          payload: c.body,
        });
      // The intact signature gets past authentication (the body may still be refused, or ignored).
      expect((await send((s) => s)).statusCode, `${c.name} intact`).not.toBe(401);
      for (const cut of [
        (s: string) => s.slice(0, -1),
        (s: string) => s.slice(0, s.length / 2),
        (s: string) => s.slice(0, 8),
      ]) {
        const res = await send(cut);
        expect(res.statusCode, `${c.name} truncated to ${cut('x'.repeat(64)).length}`).toBe(401);
        expect(res.json().error.code).toBe('unauthenticated');
      }
    }
  });

  it('a captured Slack press replayed after the 300 s window is refused and changes nothing', async () => {
    const incident = await t.services.incidents.declare(
      { title: 'Replay me', severity: 'sev2' },
      'token:test',
    );
    const body = structuredClone(fixture('slack-block-actions.json').body) as {
      user: { id: string };
      actions: { action_id: string; value: string; block_id: string }[];
    };
    body.user.id = 'U0000LEAD';
    body.actions = [
      {
        ...body.actions[0]!,
        action_id: 'guardia_ack',
        value: String(incident.id),
        block_id: `guardia:incident:${incident.id}`,
      },
    ];
    const raw = `payload=${encodeURIComponent(JSON.stringify(body))}`;
    const ts = String(nowSeconds());
    const captured = {
      method: 'POST' as const,
      url: '/hooks/slack/interactions',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': slackSignature(SECRETS.SLACK_SIGNING_SECRET, ts, raw),
      },
      payload: raw,
    };
    // Replayed later: the same bytes, the same headers. Before that, the press is still unacknowledged.
    t.clock.advance(301_000);
    const replay = await t.app.inject(captured);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.message).toMatch(/stale or replayed/);
    expect((await t.services.incidents.get(incident.id)).incident.status).toBe('triggered');
  });
});

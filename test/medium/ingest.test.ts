/**
 * The first two alert doors (generic JSON and PagerDuty Events v2), dedup, and hostile input — on SQLite and
 * PostgreSQL. "A PagerDuty client pointed at Guardia" is played by requests shaped exactly like PagerDuty's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/server/metrics.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const ROUTING_KEY = TEST_ENV.PAGERDUTY_ROUTING_KEY;

function pdTrigger(dedupKey: string, extra: Record<string, unknown> = {}) {
  return {
    routing_key: ROUTING_KEY,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: 'BlackBox Probe Failure: https://server.example.org',
      source: 'server.example.org',
      severity: 'critical',
    },
    ...extra,
  };
}

describe.each(DIALECTS)('ingest on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(async () => t.close());

  const enqueue = (body: unknown) =>
    t.app.inject({
      method: 'POST',
      url: '/v2/enqueue',
      payload: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  const getIncident = async (id: number) =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json();
  const openFor = async (dedupKey: string) => {
    const list = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/incidents?status=open&limit=500',
        headers: bearer(t.tokens.viewer),
      })
    ).json();
    return (list.incidents as { id: number; dedup_key: string }[]).filter((i) => i.dedup_key === dedupKey);
  };

  it('PagerDuty client: trigger → 202 with PagerDuty body; acknowledge and resolve act on the incident', async () => {
    const trigger = await enqueue(pdTrigger('pd-flow'));
    expect(trigger.statusCode).toBe(202);
    expect(trigger.json()).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'pd-flow' });
    const [open] = await openFor('pd-flow');
    expect(open).toBeDefined();
    const incident = await getIncident(open!.id);
    expect(incident).toMatchObject({
      severity: 'sev1',
      status: 'triggered',
      integration: 'pagerduty',
      route: 'pager',
    });

    expect(
      (await enqueue({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: 'pd-flow' }))
        .statusCode,
    ).toBe(202);
    expect((await getIncident(open!.id)).status).toBe('acknowledged');
    expect(
      (await enqueue({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'pd-flow' })).statusCode,
    ).toBe(202);
    const resolved = await getIncident(open!.id);
    expect(resolved).toMatchObject({ status: 'resolved', resolved_by: 'integration:pagerduty' });
    // As in PagerDuty: acting on something already resolved is accepted and dropped.
    expect(
      (await enqueue({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'pd-flow' })).statusCode,
    ).toBe(202);
  });

  it('a trigger without dedup_key gets one generated and returned, as in PagerDuty', async () => {
    const { dedup_key: _omit, ...body } = pdTrigger('x');
    const res = await enqueue(body);
    expect(res.statusCode).toBe(202);
    expect(res.json().dedup_key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('repeated triggers with one dedup_key make one incident and count the alerts', async () => {
    for (let i = 0; i < 3; i++) expect((await enqueue(pdTrigger('repeat'))).statusCode).toBe(202);
    const open = await openFor('repeat');
    expect(open).toHaveLength(1);
    expect((await getIncident(open[0]!.id)).alert_count).toBe(3);
  });

  it('10,000 alerts with one dedup_key: one open incident, alert count 10,000', async () => {
    const total = 10_000;
    const concurrency = 200;
    let sent = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (sent < total) {
          sent++;
          const res = await enqueue(pdTrigger('storm'));
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        }
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 202: total });
    const open = await openFor('storm');
    expect(open).toHaveLength(1);
    expect((await getIncident(open[0]!.id)).alert_count).toBe(total);
  }, 120_000);

  it('a resolved incident that fires again within the reopen window is reopened, later a new one opens', async () => {
    await enqueue(pdTrigger('flappy'));
    const [first] = await openFor('flappy');
    await enqueue({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'flappy' });
    t.clock.advance(10 * 60_000);
    await enqueue(pdTrigger('flappy'));
    const [again] = await openFor('flappy');
    expect(again!.id).toBe(first!.id);
    const reopened = await getIncident(first!.id);
    expect(reopened).toMatchObject({ status: 'triggered', reopen_count: 1 });
    expect(reopened.timeline.map((e: { kind: string }) => e.kind)).toContain('reopened');

    await enqueue({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'flappy' });
    t.clock.advance(2 * 3_600_000);
    await enqueue(pdTrigger('flappy'));
    const [fresh] = await openFor('flappy');
    expect(fresh!.id).not.toBe(first!.id);
  });

  it("PagerDuty errors use PagerDuty's 400 body and name each problem", async () => {
    const res = await enqueue({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      payload: { summary: '', severity: 'fatal' },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ status: 'invalid event', message: 'Event object is invalid' });
    expect(body.errors).toEqual(
      expect.arrayContaining([
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        expect.stringContaining("'payload.severity' is invalid"),
      ]),
    );
    const wrongKey = await enqueue({ ...pdTrigger('k'), routing_key: 'R0UT1NGKEY0123456789abcdef000000' });
    expect(wrongKey.statusCode).toBe(401);
    expect(wrongKey.json().errors[0]).toContain('routing_key');
    const notJson = await t.app.inject({
      method: 'POST',
      url: '/v2/enqueue',
      payload: '{"routing_key":',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().errors[0]).toContain('not valid JSON');
  });

  it('the generic door: opens, attaches, resolves; bearer or ?token=', async () => {
    const post = (body: unknown, query = '') =>
      t.app.inject({
        method: 'POST',
        url: `/hooks/generic${query}`,
        headers: query
          ? { 'content-type': 'application/json' }
          : { ...bearer(TEST_ENV.GENERIC_TOKEN), 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const first = await post({
      title: 'Queue backlog growing',
      severity: 'warning',
      dedup_key: 'queue',
      source: 'worker-1',
      links: [{ href: 'https://grafana.example/d/q' }],
    });
    expect(first.statusCode).toBe(202);
    expect(first.json().results[0]).toMatchObject({ outcome: 'opened', dedup_key: 'queue' });
    const second = await post(
      { title: 'Queue backlog growing', dedup_key: 'queue' },
      `?token=${TEST_ENV.GENERIC_TOKEN}`,
    );
    expect(second.json().results[0]).toMatchObject({
      outcome: 'attached',
      incident_id: first.json().results[0].incident_id,
    });
    const incident = await getIncident(first.json().results[0].incident_id);
    expect(incident).toMatchObject({
      severity: 'sev3',
      alert_count: 2,
      source: 'worker-1',
      links: [{ href: 'https://grafana.example/d/q' }],
    });
    const resolved = await post({ title: 'Queue backlog growing', dedup_key: 'queue', status: 'resolved' });
    expect(resolved.json().results[0].outcome).toBe('resolved');
  });

  it('hostile or malformed input gets a 4xx naming the problem, never a 5xx, and the server keeps serving', async () => {
    const generic = (payload: string | Buffer, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'POST',
        url: '/hooks/generic',
        headers: { ...bearer(TEST_ENV.GENERIC_TOKEN), 'content-type': 'application/json', ...headers },
        payload,
      });

    const wrongTypes = await generic(JSON.stringify({ title: 123, severity: ['x'], links: 'no' }));
    expect(wrongTypes.statusCode).toBe(400);
    const fields = wrongTypes.json().error.details.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['title', 'severity', 'links']));

    const missing = await generic(JSON.stringify({ severity: 'sev1' }));
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toContain('title');

    const invalidJson = await generic('{"title": "x",');
    expect(invalidJson.statusCode).toBe(400);
    expect(invalidJson.json().error.code).toBe('invalid_json');

    const unknownSeverity = await generic(JSON.stringify({ title: 'x', severity: 'apocalyptic' }));
    expect(unknownSeverity.statusCode).toBe(400);
    expect(unknownSeverity.json().error.message).toContain('severity');

    const huge = await generic(Buffer.alloc(5 * 1024 * 1024, 'a'));
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('payload_too_large');

    const unknown = await t.app.inject({
      method: 'POST',
      url: '/hooks/nagios',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toContain('no integration named "nagios"');

    const badToken = await generic(JSON.stringify({ title: 'x' }), bearer('wrong'));
    expect(badToken.statusCode).toBe(401);
    const noToken = await t.app.inject({
      method: 'POST',
      url: '/hooks/generic',
      payload: '{"title":"x"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(noToken.statusCode).toBe(401);
    expect(noToken.json().error.message).toContain('Authorization: Bearer');

    const weirdType = await generic('title=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(weirdType.statusCode).toBe(400);

    // PostgreSQL refuses NUL in text; a lone surrogate cannot be stored as UTF-8. Both are kept as U+FFFD.
    const nul = await generic(
      JSON.stringify({ title: 'a\u0000b \ud800 end', dedup_key: 'nul\u0000key', source: '\u0000' }),
    );
    expect(nul.statusCode).toBe(202);
    const stored = await getIncident(nul.json().results[0].incident_id);
    expect(stored.title).toBe('a\uFFFDb \uFFFD end');
    expect(stored.dedup_key).toBe('nul\uFFFDkey');

    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
      status: 'ready',
      store: dialect,
    });
  });

  it('an integration whose secret is unset refuses everything, naming the variable', async () => {
    const closed = await startTestApp(dialect, { env: {} });
    try {
      const res = await closed.app.inject({
        method: 'POST',
        url: '/hooks/generic',
        headers: bearer('anything'),
        payload: '{"title":"x"}',
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('GENERIC_TOKEN');
      const pd = await closed.app.inject({
        method: 'POST',
        url: '/v2/enqueue',
        payload: JSON.stringify(pdTrigger('x')),
        headers: { 'content-type': 'application/json' },
      });
      expect(pd.statusCode).toBe(401);
      expect(pd.json().errors[0]).toContain('PAGERDUTY_ROUTING_KEY');
    } finally {
      await closed.close();
    }
  });

  it("echoes the caller's X-Request-Id (or makes one) and counts ingest in /metrics", async () => {
    const res = await enqueue(pdTrigger('metrics'));
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const mine = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'trace-abc.123' },
    });
    expect(mine.headers['x-request-id']).toBe('trace-abc.123');
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/guardia_alerts_ingested_total\{integration="pagerduty",outcome="opened"\} \d+/);
    expect(metrics).toMatch(/guardia_incidents\{status="triggered",severity="sev1"\} \d+/);
    expect(metrics).toMatch(/^guardia_process_cpu_seconds_total \d/m);
    expect(metrics).toMatch(/^guardia_nodejs_heap_size_used_bytes \d/m);
  });

  it('services built without the HTTP server (engine thread, CLI) collect no process metrics', async () => {
    const metrics = new Metrics(t.services.store);
    expect(await metrics.registry.metrics()).not.toMatch(/guardia_process_|guardia_nodejs_/);
    metrics.collectProcessMetrics();
    metrics.collectProcessMetrics();
    expect(await metrics.registry.metrics()).toMatch(/^guardia_process_cpu_seconds_total \d/m);
  });
});

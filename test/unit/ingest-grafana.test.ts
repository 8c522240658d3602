/**
 * Grafana Alerting webhook contact point: HMAC signature (with and without the timestamp header, replay window),
 * the mapping, and `POST /hooks/grafana` on SQLite and PostgreSQL with the documented payload.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { IntegrationPolicy } from '../../src/domain/policy/schema.js';
import type { InboundRequest } from '../../src/ingest/adapter.js';
import { grafanaAdapter } from '../../src/ingest/grafana.js';
import { GuardiaError } from '../../src/shared/errors.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

interface GrafanaAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  fingerprint: string;
  [key: string]: unknown;
}
interface GrafanaBody {
  alerts: GrafanaAlert[];
  [key: string]: unknown;
}
interface Fixture {
  _secret: string;
  request: { headers: Record<string, string>; body: GrafanaBody };
}

const FIXTURE = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, '../fixtures/integrations/grafana-firing.json'), 'utf8'),
) as Fixture;
const SECRET = FIXTURE._secret;
const BODY = FIXTURE.request.body;
const RAW = JSON.stringify(BODY);
const TS = FIXTURE.request.headers['X-Grafana-Alerting-Signature-Timestamp']!;
/** The harness clock's start, which is also the fixture's signed timestamp. */
const NOW = new Date(Number(TS) * 1000);
const ENV = { ...TEST_ENV, GRAFANA_WEBHOOK_SECRET: SECRET };

const integration: IntegrationPolicy = loadPolicy({}).integrations.find((i) => i.name === 'grafana')!;

/** Signs like Grafana's HMACRoundTripper: hex HMAC-SHA256 over `ts:body`, or the body when ts is null. */
function signed(raw: string, ts: string | null = TS, secret = SECRET): Record<string, string> {
  const hmac = crypto.createHmac('sha256', secret);
  if (ts !== null) hmac.update(`${ts}:`);
  const signature = hmac.update(raw).digest('hex');
  return {
    'x-grafana-alerting-signature': signature,
    ...(ts === null ? {} : { 'x-grafana-alerting-signature-timestamp': ts }),
  };
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function inbound(raw: string, headers: Record<string, string>, receivedAt = NOW): InboundRequest {
  return { headers, query: {}, rawBody: Buffer.from(raw, 'utf8'), receivedAt };
}

function group(...alerts: Partial<GrafanaAlert>[]): GrafanaBody {
  const base = BODY.alerts[0]!;
  return { ...BODY, alerts: alerts.map((a) => ({ ...base, ...a, labels: { ...base.labels, ...a.labels } })) };
}

function expectError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GuardiaError);
    expect((err as GuardiaError).code).toBe(code);
    expect((err as GuardiaError).message).toMatch(message);
    expect((err as GuardiaError).message).not.toContain(SECRET);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('grafana adapter: authenticate', () => {
  const auth =
    (raw: string, headers: Record<string, string>, receivedAt = NOW) =>
    () =>
      grafanaAdapter.authenticate(inbound(raw, headers, receivedAt), SECRET);

  it("accepts the fixture's documented signature (timestamp:body) over the exact bytes", () => {
    expect(auth(RAW, lower(FIXTURE.request.headers))).not.toThrow();
  });

  it('accepts a body-only signature when no timestamp header is sent, and the fallback header name', () => {
    expect(auth(RAW, signed(RAW, null))).not.toThrow();
    const sig = signed(RAW, null)['x-grafana-alerting-signature']!;
    expect(auth(RAW, { 'x-grafana-alert-signature': sig })).not.toThrow();
    expect(auth(RAW, { 'x-grafana-alerting-signature': sig.toUpperCase() })).not.toThrow();
  });

  it('refuses one changed byte, a wrong secret, and a timestamp header that was not signed', () => {
    const headers = lower(FIXTURE.request.headers);
    expectError(
      auth(RAW.replace('"firing"', '"firinG"'), headers),
      'unauthenticated',
      /invalid X-Grafana-Alerting-Signature/i,
    );
    expectError(auth(RAW, signed(RAW, TS, 'another-secret')), 'unauthenticated', /does not match/);
    expectError(
      auth(RAW, { ...headers, 'x-grafana-alerting-signature-timestamp': String(Number(TS) + 1) }),
      'unauthenticated',
      /does not match/,
    );
    // A body-only signature does not pass once a timestamp is added (and the reverse).
    expectError(
      auth(RAW, { ...signed(RAW, null), 'x-grafana-alerting-signature-timestamp': TS }),
      'unauthenticated',
      /timestamp:body/,
    );
    const { 'x-grafana-alerting-signature-timestamp': _drop, ...noTs } = headers;
    expectError(auth(RAW, noTs), 'unauthenticated', /the body/);
  });

  it('refuses a missing or malformed signature, naming the header', () => {
    expectError(auth(RAW, {}), 'unauthenticated', /missing X-Grafana-Alerting-Signature/);
    expectError(auth(RAW, { 'x-grafana-alerting-signature': '' }), 'unauthenticated', /missing/);
    expectError(
      auth(RAW, { 'x-grafana-alerting-signature': 'abc123' }),
      'unauthenticated',
      /malformed x-grafana-alerting-signature.*64 hex/i,
    );
    expectError(
      auth(RAW, { 'x-grafana-alerting-signature': 'sha256=' + 'a'.repeat(64) }),
      'unauthenticated',
      /malformed/,
    );
    expectError(
      auth(RAW, { 'x-grafana-alerting-signature': 'z'.repeat(64) }),
      'unauthenticated',
      /malformed/,
    );
    expectError(
      auth(RAW, { ...signed(RAW), 'x-grafana-alerting-signature-timestamp': '2026-11-27T10:00:00Z' }),
      'unauthenticated',
      /Timestamp header: expected Unix time/,
    );
  });

  it('enforces a 5-minute window on the timestamp against the time of receipt (replays refused)', () => {
    const headers = lower(FIXTURE.request.headers);
    const at = (ms: number) => new Date(NOW.getTime() + ms);
    expect(auth(RAW, headers, at(4 * 60_000))).not.toThrow();
    expect(auth(RAW, headers, at(-4 * 60_000))).not.toThrow();
    expect(auth(RAW, headers, at(5 * 60_000))).not.toThrow();
    expectError(auth(RAW, headers, at(5 * 60_000 + 1000)), 'unauthenticated', /replay/);
    expectError(auth(RAW, headers, at(-6 * 60_000)), 'unauthenticated', /360 s/);
  });
});

describe('grafana adapter: parse', () => {
  const parse = (body: unknown) =>
    grafanaAdapter.parse(inbound(typeof body === 'string' ? body : JSON.stringify(body), {}), integration);

  it('maps the documented payload: one alert per element, dedup grafana:{fingerprint}, links, severity', () => {
    const [firing, resolved] = parse(BODY).alerts;
    expect(firing).toMatchObject({
      integration: 'grafana',
      action: 'trigger',
      dedup_key: 'grafana:c6eadffa33fcdf37',
      delivery_key: 'c6eadffa33fcdf37:firing:2026-11-27T09:51:03.157076+00:00',
      severity: 'sev1',
      title: 'Memory above 95% on web-1 (zone us-1)',
      source: 'web-1:9100',
      occurred_at: new Date('2026-11-27T09:51:03.157Z'),
      raw: RAW,
    });
    expect(firing!.links.map((l) => l.text)).toEqual([
      'Grafana: alert rule',
      'Grafana: dashboard',
      'Grafana: panel',
      'Silence in Grafana',
      'Runbook',
    ]);
    expect(firing!.links[0]!.href).toBe(BODY.alerts[0]!.generatorURL);
    expect(firing!.details).toMatchObject({
      values: BODY.alerts[0]!.values,
      org_id: 1,
      labels: BODY.alerts[0]!.labels,
    });
    expect(resolved).toMatchObject({
      action: 'resolve',
      dedup_key: 'grafana:bc97ff14869b13e3',
      severity: 'sev3',
    });
    // Empty dashboardURL/panelURL (deprecated fields) give no link.
    expect(resolved!.links.map((l) => l.text)).toEqual(['Grafana: alert rule', 'Silence in Grafana']);
  });

  it("the contact point's Test notification is recorded as a test", () => {
    const test = {
      ...BODY,
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'TestAlert', instance: 'Grafana' },
          annotations: { summary: 'Notification test' },
          startsAt: '2026-11-27T09:59:59.1234+00:00',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint: '57c6d9296de2ad39',
          silenceURL: '',
          dashboardURL: '',
          panelURL: '',
          values: null,
          valueString: "[ metric='foo' labels={instance=bar} value=10 ]",
        },
      ],
    };
    const [alert] = parse(test).alerts;
    expect(alert).toMatchObject({
      action: 'test',
      title: 'Notification test',
      dedup_key: 'grafana:57c6d9296de2ad39',
    });
  });

  it('title fallbacks and unsafe links', () => {
    const [a] = parse(
      group({
        annotations: {},
        generatorURL: 'javascript:alert(1)',
        dashboardURL: 'data:text/html,x',
        panelURL: '/relative',
      }),
    ).alerts;
    expect(a!.title).toBe('High memory usage on web-1:9100');
    expect(a!.links.map((l) => l.text)).toEqual(['Silence in Grafana']);
  });

  it('wrong types → invalid_input naming the field', () => {
    expectError(() => parse({ ...BODY, alerts: 'none' }), 'invalid_input', /alerts/);
    expectError(() => parse(group({ status: 'alerting' })), 'invalid_input', /alerts\.0\.status/);
    expectError(() => parse(group({ values: [1, 2] })), 'invalid_input', /alerts\.0\.values/);
    expectError(
      () => parse(group({ silenceURL: 5 as unknown as string })),
      'invalid_input',
      /alerts\.0\.silenceURL/,
    );
    expectError(() => parse({ ...BODY, orgId: '1' }), 'invalid_input', /orgId/);
    expectError(() => parse('{'), 'invalid_json', /not valid JSON/);
  });
});

describe.each(DIALECTS)('POST /hooks/grafana on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect, { env: ENV, now: NOW.toISOString() });
  });
  afterAll(async () => t.close());

  const postRaw = (raw: string | Buffer, headers: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/hooks/grafana',
      headers: { 'content-type': 'application/json', ...headers },
      payload: raw,
    });
  /** Signs `body` with the current harness time as Grafana would, and posts it. */
  const post = (body: unknown) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return postRaw(raw, signed(raw, String(Math.floor(t.clock.now().getTime() / 1000))));
  };
  const getIncident = async (id: number) =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json();

  it('the documented request (exact bytes and headers) → 202; the firing alert opens a sev1 incident', async () => {
    const res = await postRaw(Buffer.from(RAW, 'utf8'), FIXTURE.request.headers);
    expect(res.statusCode).toBe(202);
    const results = res.json().results as { outcome: string; incident_id: number; dedup_key: string }[];
    expect(results.map((r) => [r.dedup_key, r.outcome])).toEqual([
      ['grafana:c6eadffa33fcdf37', 'opened'],
      ['grafana:bc97ff14869b13e3', 'ignored'], // resolved, nothing open for it
    ]);
    const incident = await getIncident(results[0]!.incident_id);
    expect(incident).toMatchObject({
      severity: 'sev1',
      status: 'triggered',
      integration: 'grafana',
      title: 'Memory above 95% on web-1 (zone us-1)',
    });
  });

  it('the same delivery again → 202 duplicate, no second alert; resolved → incident resolved', async () => {
    const again = await postRaw(RAW, FIXTURE.request.headers);
    expect(again.statusCode).toBe(202);
    const [dup] = again.json().results;
    expect(dup.outcome).toBe('duplicate');
    expect((await getIncident(dup.incident_id)).alert_count).toBe(1);

    const resolve = await post(group({ status: 'resolved', endsAt: '2026-11-27T09:59:00Z' }));
    expect(resolve.statusCode).toBe(202);
    expect(resolve.json().results[0]).toMatchObject({ outcome: 'resolved', incident_id: dup.incident_id });
    expect(await getIncident(dup.incident_id)).toMatchObject({
      status: 'resolved',
      resolved_by: 'integration:grafana',
    });
  });

  it('one byte changed → 401; missing signature → 401; stale timestamp → 401', async () => {
    const changed = Buffer.from(RAW, 'utf8');
    changed[changed.indexOf('High memory')] = 'h'.charCodeAt(0);
    const tampered = await postRaw(changed, FIXTURE.request.headers);
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json().error.code).toBe('unauthenticated');

    const missing = await postRaw(RAW, {});
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.message).toContain('X-Grafana-Alerting-Signature');

    const stale = String(Math.floor(t.clock.now().getTime() / 1000) - 10 * 60);
    const replay = await postRaw(RAW, signed(RAW, stale));
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.message).toMatch(/replay/);
  });

  it('Test button notification → 202 outcome test, no incident', async () => {
    const res = await post({
      ...BODY,
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'TestAlert', instance: 'Grafana' },
          annotations: { summary: 'Notification test' },
          startsAt: '2026-11-27T09:59:00Z',
          fingerprint: '57c6d9296de2ad39',
          values: null,
        },
      ],
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().results[0]).toMatchObject({ outcome: 'test', incident_id: null });
  });

  it('Unicode, a 100 KB string, missing optional fields, unknown extra fields → 202', async () => {
    const unicode = await post(
      group({ fingerprint: 'uni1', annotations: { summary: 'Speicher voll 🧠 — 日本語 ✓' } }),
    );
    expect(unicode.statusCode).toBe(202);
    expect((await getIncident(unicode.json().results[0].incident_id)).title).toBe(
      'Speicher voll 🧠 — 日本語 ✓',
    );

    const big = await post(
      group({
        fingerprint: 'big1',
        annotations: { summary: 'S'.repeat(100_000) },
        valueString: 'v'.repeat(100_000),
      }),
    );
    expect(big.statusCode).toBe(202);
    expect((await getIncident(big.json().results[0].incident_id)).title).toHaveLength(1024);

    const minimal = await post({
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'Bare' },
          startsAt: '2026-11-27T09:00:00Z',
          fingerprint: 'min1',
        },
      ],
    });
    expect(minimal.statusCode).toBe(202);
    expect(minimal.json().results[0].outcome).toBe('opened');

    const extra = await post({
      ...group({ fingerprint: 'ext1', newThing: { a: [1] } }),
      futureTopLevel: 'x',
    });
    expect(extra.statusCode).toBe(202);
  });

  it('wrong types → 400 naming the field; broken JSON → 400', async () => {
    const wrong = await post(group({ fingerprint: 'wrong1', labels: { severity: 1 as unknown as string } }));
    expect(wrong.statusCode).toBe(400);
    expect(JSON.stringify(wrong.json())).toContain('alerts.0.labels.severity');
    expect((await post('{"alerts":')).statusCode).toBe(400);
    expect((await post('"just a string"')).statusCode).toBe(400);
  });

  it('GRAFANA_WEBHOOK_SECRET unset → 401 naming the variable', async () => {
    const bare = await startTestApp(dialect, { now: NOW.toISOString() });
    try {
      const res = await bare.app.inject({
        method: 'POST',
        url: '/hooks/grafana',
        headers: { 'content-type': 'application/json', ...FIXTURE.request.headers },
        payload: RAW,
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('GRAFANA_WEBHOOK_SECRET');
    } finally {
      await bare.close();
    }
  });
});

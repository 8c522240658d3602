/**
 * Prometheus Alertmanager webhook (payload v4): the adapter on its own (parse, authenticate, mapping rules), then
 * through `POST /hooks/alertmanager` on SQLite and PostgreSQL with the documented fixtures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { IntegrationPolicy } from '../../src/domain/policy/schema.js';
import type { InboundRequest } from '../../src/ingest/adapter.js';
import { alertmanagerAdapter } from '../../src/ingest/alertmanager.js';
import { GuardiaError } from '../../src/shared/errors.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const TOKEN = 'am-test-token-0123456789abcdef0123';
const ENV = { ...TEST_ENV, ALERTMANAGER_TOKEN: TOKEN };

interface Fixture {
  request: { headers: Record<string, string>; body: AmBody };
}
interface AmAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}
interface AmBody {
  alerts: AmAlert[];
  externalURL: string;
  [key: string]: unknown;
}

function fixture(name: string): Fixture {
  return JSON.parse(
    fs.readFileSync(path.join(import.meta.dirname, '../fixtures/integrations', name), 'utf8'),
  ) as Fixture;
}
const FIRING = fixture('alertmanager-firing.json').request.body;
const RESOLVED = fixture('alertmanager-resolved.json').request.body;

const integration: IntegrationPolicy = loadPolicy({}).integrations.find((i) => i.name === 'alertmanager')!;

function inbound(
  body: unknown,
  headers: Record<string, string> = bearer(TOKEN),
  query: Record<string, string> = {},
): InboundRequest {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return { headers, query, rawBody: Buffer.from(raw, 'utf8'), receivedAt: new Date('2026-11-27T10:00:00Z') };
}

/** A copy of the firing fixture whose alerts are replaced by `alerts` (each merged over the fixture's alert). */
function group(...alerts: Partial<AmAlert>[]): AmBody {
  const base = FIRING.alerts[0]!;
  return {
    ...FIRING,
    alerts: alerts.map((a) => ({ ...base, ...a, labels: { ...base.labels, ...a.labels } })),
  };
}

function expectError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GuardiaError);
    expect((err as GuardiaError).code).toBe(code);
    expect((err as GuardiaError).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('alertmanager adapter: parse', () => {
  it('maps the firing fixture to one trigger with dedup, delivery key, severity, title, source, links', () => {
    const req = inbound(FIRING);
    const { alerts } = alertmanagerAdapter.parse(req, integration);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      integration: 'alertmanager',
      action: 'trigger',
      dedup_key: 'am:1a30ba71cca2921f',
      delivery_key: '1a30ba71cca2921f:firing:2023-02-06T13:08:45.828Z',
      severity: 'sev1',
      title: 'BlackBox Probe Failure: https://server.example.org',
      source: 'https://server.example.org',
      occurred_at: new Date('2023-02-06T13:08:45.828Z'),
      raw: req.rawBody.toString('utf8'),
    });
    expect(alerts[0]!.details).toMatchObject({
      labels: FIRING.alerts[0]!.labels,
      annotations: FIRING.alerts[0]!.annotations,
      receiver: 'alert-hub',
      external_url: 'http://alertmanager.example.org:9093',
    });
    expect(alerts[0]!.details).not.toHaveProperty('ends_at'); // Go's zero time means "still firing"
    expect(alerts[0]!.links).toEqual([
      { href: FIRING.alerts[0]!.generatorURL, text: 'Prometheus: alert expression' },
      {
        href:
          'http://alertmanager.example.org:9093/#/silences/new?filter=' +
          encodeURIComponent(
            '{alertname="ProbeFailure", instance="https://server.example.org", job="http_checks", monitor="master", severity="critical"}',
          ),
        text: 'Silence in Alertmanager',
      },
    ]);
  });

  it('maps the resolved fixture to a resolve of the same dedup key with its own delivery key', () => {
    const [alert] = alertmanagerAdapter.parse(inbound(RESOLVED), integration).alerts;
    expect(alert).toMatchObject({
      action: 'resolve',
      dedup_key: 'am:1a30ba71cca2921f',
      delivery_key: '1a30ba71cca2921f:resolved:2023-02-06T13:08:45.828Z',
    });
    expect(alert!.details).toMatchObject({ ends_at: '2023-02-06T13:23:45.828Z' });
  });

  it('one alert per element of a mixed group, firing and resolved', () => {
    const body = group(
      { fingerprint: 'aaaa000000000001' },
      { fingerprint: 'aaaa000000000002', status: 'resolved', endsAt: '2023-02-06T13:20:00Z' },
      { fingerprint: 'aaaa000000000003', labels: { severity: 'warning' } },
    );
    const alerts = alertmanagerAdapter.parse(inbound(body), integration).alerts;
    expect(alerts.map((a) => [a.dedup_key, a.action, a.severity])).toEqual([
      ['am:aaaa000000000001', 'trigger', 'sev1'],
      ['am:aaaa000000000002', 'resolve', 'sev1'],
      ['am:aaaa000000000003', 'trigger', 'sev3'],
    ]);
  });

  it('severity: labels.severity through the defaults; unknown or missing → null (the route decides)', () => {
    const cases: [string | undefined, string | null][] = [
      ['critical', 'sev1'],
      ['CRITICAL', 'sev1'],
      ['error', 'sev2'],
      ['high', 'sev2'],
      ['major', 'sev2'],
      ['warning', 'sev3'],
      ['minor', 'sev3'],
      ['info', 'sev3'],
      ['sev2', 'sev2'],
      ['page-me-now', null],
      [undefined, null],
    ];
    for (const [word, expected] of cases) {
      const base = FIRING.alerts[0]!;
      const labels: Record<string, string> = { ...base.labels };
      if (word === undefined) delete labels.severity;
      else labels.severity = word;
      const [alert] = alertmanagerAdapter.parse(
        inbound({ ...FIRING, alerts: [{ ...base, labels }] }),
        integration,
      ).alerts;
      expect([word, alert!.severity]).toEqual([word, expected]);
    }
  });

  it("the policy's severity_map overrides the defaults", () => {
    const custom: IntegrationPolicy = { ...integration, severity_map: { warning: 'sev2', p1: 'sev1' } };
    const alerts = alertmanagerAdapter.parse(
      inbound(group({ labels: { severity: 'warning' } }, { fingerprint: 'x2', labels: { severity: 'P1' } })),
      custom,
    ).alerts;
    expect(alerts.map((a) => a.severity)).toEqual(['sev2', 'sev1']);
  });

  it('title: summary, else title annotation, else alertname on instance, else a fallback; clipped to 1024', () => {
    const title = (a: Partial<AmAlert>) =>
      alertmanagerAdapter.parse(inbound(group(a)), integration).alerts[0]!.title;
    expect(title({ annotations: { title: 'Disk full', summary: '  ' } })).toBe('Disk full');
    expect(title({ annotations: {} })).toBe('ProbeFailure on https://server.example.org');
    expect(title({ annotations: {}, labels: { instance: '' } })).toBe('ProbeFailure');
    const base = FIRING.alerts[0]!;
    const noName = { ...base, annotations: {}, labels: { job: 'x' } };
    expect(
      alertmanagerAdapter.parse(inbound({ ...FIRING, alerts: [noName] }), integration).alerts[0]!.title,
    ).toBe('Alertmanager alert 1a30ba71cca2921f');
    expect(title({ annotations: { summary: 'x'.repeat(5000) } })).toHaveLength(1024);
  });

  it('links: only http(s) URLs; runbook_url kept; no externalURL → no silence link', () => {
    const body = {
      ...group({
        generatorURL: 'javascript:alert(1)',
        annotations: { summary: 's', runbook_url: 'https://runbooks.example.org/probe' },
      }),
    };
    delete (body as Partial<AmBody>).externalURL;
    const [alert] = alertmanagerAdapter.parse(inbound(body), integration).alerts;
    expect(alert!.links).toEqual([{ href: 'https://runbooks.example.org/probe', text: 'Runbook' }]);
  });

  it('accepts a minimal alert (only status, labels, startsAt, fingerprint) and unknown extra fields', () => {
    const body = {
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'Up' },
          startsAt: '2026-11-27T09:59:00.123456789Z',
          fingerprint: 'f1',
          extra: { x: 1 },
        },
      ],
      future: true,
    };
    const [alert] = alertmanagerAdapter.parse(inbound(body), integration).alerts;
    expect(alert).toMatchObject({ title: 'Up', severity: null, source: null, links: [], dedup_key: 'am:f1' });
  });

  it('wrong types and missing required fields → invalid_input naming the field', () => {
    const parse = (body: unknown) => () => alertmanagerAdapter.parse(inbound(body), integration);
    expectError(parse({ ...FIRING, alerts: undefined }), 'invalid_input', /alerts/);
    expectError(parse(group({ status: 'pending' })), 'invalid_input', /alerts\.0\.status/);
    expectError(
      parse({ ...FIRING, alerts: [{ ...FIRING.alerts[0], labels: 'severity=critical' }] }),
      'invalid_input',
      /alerts\.0\.labels/,
    );
    expectError(
      parse({ ...FIRING, alerts: [{ ...FIRING.alerts[0], labels: { severity: 3 } }] }),
      'invalid_input',
      /alerts\.0\.labels\.severity/,
    );
    expectError(parse(group({ startsAt: 'yesterday' })), 'invalid_input', /alerts\.0\.startsAt/);
    expectError(parse(group({ fingerprint: '' })), 'invalid_input', /alerts\.0\.fingerprint/);
    expectError(parse({ ...FIRING, externalURL: 42 }), 'invalid_input', /externalURL/);
    expectError(parse('[1, 2'), 'invalid_json', /not valid JSON/);
    expectError(parse(''), 'invalid_json', /empty/);
  });
});

describe('alertmanager adapter: authenticate', () => {
  it('accepts the token as Authorization: Bearer or ?token=', () => {
    expect(() => alertmanagerAdapter.authenticate(inbound(FIRING), TOKEN)).not.toThrow();
    expect(() =>
      alertmanagerAdapter.authenticate(inbound(FIRING, {}, { token: TOKEN }), TOKEN),
    ).not.toThrow();
  });

  it('refuses a missing or wrong token without echoing the secret', () => {
    expectError(
      () => alertmanagerAdapter.authenticate(inbound(FIRING, {}), TOKEN),
      'unauthenticated',
      /missing token/,
    );
    expectError(
      () => alertmanagerAdapter.authenticate(inbound(FIRING, bearer(TOKEN.slice(0, -1) + 'X')), TOKEN),
      'unauthenticated',
      /invalid token/,
    );
    try {
      alertmanagerAdapter.authenticate(inbound(FIRING, bearer('nope')), TOKEN);
    } catch (err) {
      expect((err as Error).message).not.toContain(TOKEN);
    }
  });
});

describe.each(DIALECTS)('POST /hooks/alertmanager on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect, { env: ENV });
  });
  afterAll(async () => t.close());

  const post = (body: unknown, headers: Record<string, string> = bearer(TOKEN)) =>
    t.app.inject({
      method: 'POST',
      url: '/hooks/alertmanager',
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const getIncident = async (id: number) =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json();

  it('firing fixture → 202 opened; re-sent group → duplicate; resolved → incident resolved; new startsAt → fires again', async () => {
    const res = await post(Buffer.from(JSON.stringify(FIRING)));
    expect(res.statusCode).toBe(202);
    const [result] = res.json().results;
    expect(result).toMatchObject({ outcome: 'opened', dedup_key: 'am:1a30ba71cca2921f' });
    expect(await getIncident(result.incident_id)).toMatchObject({
      severity: 'sev1',
      status: 'triggered',
      integration: 'alertmanager',
      title: 'BlackBox Probe Failure: https://server.example.org',
      alert_count: 1,
    });

    const again = await post(FIRING);
    expect(again.statusCode).toBe(202);
    expect(again.json().results[0]).toMatchObject({ outcome: 'duplicate', incident_id: result.incident_id });
    expect((await getIncident(result.incident_id)).alert_count).toBe(1);

    const resolved = await post(RESOLVED);
    expect(resolved.statusCode).toBe(202);
    expect(resolved.json().results[0]).toMatchObject({
      outcome: 'resolved',
      incident_id: result.incident_id,
    });
    expect(await getIncident(result.incident_id)).toMatchObject({
      status: 'resolved',
      resolved_by: 'integration:alertmanager',
    });
    expect((await post(RESOLVED)).json().results[0].outcome).toBe('duplicate');

    const refire = await post(group({ startsAt: '2026-11-27T09:58:00Z' }));
    expect(refire.statusCode).toBe(202);
    expect(['reopened', 'opened']).toContain(refire.json().results[0].outcome);
  });

  it('a group with firing and resolved alerts → one result per alert', async () => {
    const first = await post(
      group(
        { fingerprint: 'mix0000000000001' },
        { fingerprint: 'mix0000000000002', labels: { severity: 'warning' } },
      ),
    );
    expect(first.json().results.map((r: { outcome: string }) => r.outcome)).toEqual(['opened', 'opened']);
    const second = await post(
      group(
        { fingerprint: 'mix0000000000001' },
        {
          fingerprint: 'mix0000000000002',
          labels: { severity: 'warning' },
          status: 'resolved',
          endsAt: '2026-11-27T09:59:00Z',
        },
        { fingerprint: 'mix0000000000003', labels: { severity: 'info' } },
      ),
    );
    expect(second.statusCode).toBe(202);
    const results = second.json().results as { outcome: string; incident_id: number }[];
    expect(results.map((r) => r.outcome)).toEqual(['duplicate', 'resolved', 'opened']);
    expect((await getIncident(results[2]!.incident_id)).severity).toBe('sev3');
  });

  it('missing token → 401; one byte of the token changed → 401; ?token= works', async () => {
    const missing = await post(FIRING, {});
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('unauthenticated');
    expect((await post(FIRING, bearer(TOKEN.slice(0, -1) + 'Y'))).statusCode).toBe(401);
    const viaQuery = await t.app.inject({
      method: 'POST',
      url: `/hooks/alertmanager?token=${TOKEN}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(group({ fingerprint: 'query00000000001' })),
    });
    expect(viaQuery.statusCode).toBe(202);
  });

  it('Unicode, a 100 KB annotation, missing optional fields, unknown extra fields → 202', async () => {
    const unicode = await post(
      group({
        fingerprint: 'uni0000000000001',
        annotations: { summary: 'Диск заполнен 💥 — 東京 ✓ \u202e' },
      }),
    );
    expect(unicode.statusCode).toBe(202);
    expect((await getIncident(unicode.json().results[0].incident_id)).title).toBe(
      'Диск заполнен 💥 — 東京 ✓ \u202e',
    );

    const big = await post(
      group({
        fingerprint: 'big0000000000001',
        annotations: { summary: 'S'.repeat(100_000), description: 'D'.repeat(100_000) },
      }),
    );
    expect(big.statusCode).toBe(202);
    expect((await getIncident(big.json().results[0].incident_id)).title).toHaveLength(1024);

    const minimal = await post({
      alerts: [
        { status: 'firing', labels: {}, startsAt: '2026-11-27T09:00:00Z', fingerprint: 'min0000000000001' },
      ],
    });
    expect(minimal.statusCode).toBe(202);
    expect(minimal.json().results[0].outcome).toBe('opened');

    const extra = await post({
      ...group({ fingerprint: 'ext0000000000001' }),
      newField: { nested: [1, 2] },
      truncatedAlerts: 3,
    });
    expect(extra.statusCode).toBe(202);

    expect((await post({ ...FIRING, alerts: [] })).statusCode).toBe(202);
  });

  it('wrong types → 400 naming the field; broken JSON → 400; never a 5xx', async () => {
    const wrong = await post({ ...FIRING, alerts: [{ ...FIRING.alerts[0], labels: ['severity'] }] });
    expect(wrong.statusCode).toBe(400);
    expect(JSON.stringify(wrong.json())).toContain('alerts.0.labels');
    const notArray = await post({ ...FIRING, alerts: { 0: FIRING.alerts[0] } });
    expect(notArray.statusCode).toBe(400);
    expect(JSON.stringify(notArray.json())).toContain('alerts');
    const longFp = await post(group({ fingerprint: 'f'.repeat(100_000) }));
    expect(longFp.statusCode).toBe(400);
    expect(JSON.stringify(longFp.json())).toContain('alerts.0.fingerprint');
    expect((await post('{"alerts": [')).statusCode).toBe(400);
    expect((await post('null')).statusCode).toBe(400);
  });

  it('ALERTMANAGER_TOKEN unset → 401 naming the variable', async () => {
    const bare = await startTestApp(dialect); // TEST_ENV only
    try {
      const res = await bare.app.inject({
        method: 'POST',
        url: '/hooks/alertmanager',
        headers: { 'content-type': 'application/json', ...bearer(TOKEN) },
        payload: JSON.stringify(FIRING),
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('ALERTMANAGER_TOKEN');
    } finally {
      await bare.close();
    }
  });
});

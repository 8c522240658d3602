/**
 * Uptime monitors — Uptime Kuma, UptimeRobot, Better Stack: parsing and authentication of each documented
 * request, then the HTTP door (`/hooks/{name}`) on SQLite and PostgreSQL: an outage opens a sev1 through the
 * default `uptime` route, the recovery resolves it, redeliveries are duplicates, odd input never causes a 5xx.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { IntegrationPolicy } from '../../src/domain/policy/schema.js';
import type { InboundRequest } from '../../src/ingest/adapter.js';
import { betterStackAdapter } from '../../src/ingest/betterstack.js';
import { multipartField, uptimeKumaAdapter } from '../../src/ingest/uptime-kuma.js';
import { uptimeRobotAdapter } from '../../src/ingest/uptimerobot.js';
import { GuardiaError } from '../../src/shared/errors.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/integrations');
type Obj = Record<string, unknown>;
interface Fixture {
  request: { headers: Record<string, string>; body: Obj };
}
const fixture = (name: string): Fixture =>
  JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Fixture;
/** A fresh, freely modifiable copy of a fixture's body. */
const bodyOf = (
  name: string,
): Obj & { heartbeat: Obj; monitor: Obj; data: Obj & { attributes: Obj; relationships?: Obj } } =>
  structuredClone(fixture(name).request.body) as never;

const KUMA_DOWN = 'uptime-kuma-down.json';
const KUMA_UP = 'uptime-kuma-up.json';
const ROBOT_DOWN = 'uptimerobot-down.json';
const ROBOT_UP = 'uptimerobot-up.json';
const BETTER_STARTED = 'betterstack-incident-started.json';

const SECRETS = {
  UPTIME_KUMA_TOKEN: 'kuma-test-token-0123456789abcdef',
  UPTIMEROBOT_TOKEN: 'robot-test-token-0123456789abcdef',
  BETTERSTACK_TOKEN: 'better-test-token-0123456789abcdef',
};

const policy = loadPolicy({});
const integrationNamed = (name: string): IntegrationPolicy =>
  policy.integrations.find((i) => i.name === name)!;
const kuma = integrationNamed('uptime-kuma');
const robot = integrationNamed('uptimerobot');
const better = integrationNamed('betterstack');

function request(
  raw: string | Buffer,
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
): InboundRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return {
    headers: lower,
    query,
    rawBody: Buffer.isBuffer(raw) ? raw : Buffer.from(raw),
    receivedAt: new Date(),
  };
}
const json = (body: unknown, headers: Record<string, string> = {}) =>
  request(JSON.stringify(body), { 'content-type': 'application/json', ...headers });

/** Runs `fn` and returns the GuardiaError it throws. */
function failure(fn: () => unknown): GuardiaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GuardiaError);
    return err as GuardiaError;
  }
  throw new Error('expected a GuardiaError');
}

function multipart(
  fields: Record<string, string>,
  boundary = '--------------------------guardia0123',
): { body: Buffer; contentType: string } {
  let text = '';
  for (const [name, value] of Object.entries(fields)) {
    text += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  text += `--${boundary}--\r\n`;
  return { body: Buffer.from(text, 'utf8'), contentType: `multipart/form-data; boundary=${boundary}` };
}

// ---------------------------------------------------------------------------------------------------------------
describe('Uptime Kuma adapter', () => {
  it('maps a DOWN heartbeat to a trigger keyed by monitor, with the heartbeat as delivery key', () => {
    const req = json(bodyOf(KUMA_DOWN));
    const [alert, ...rest] = uptimeKumaAdapter.parse(req, kuma).alerts;
    expect(rest).toHaveLength(0);
    expect(alert).toMatchObject({
      integration: 'uptime-kuma',
      action: 'trigger',
      dedup_key: 'kuma:29',
      title: 'API health down: getaddrinfo ENOTFOUND api.example.com',
      severity: null,
      source: 'https://api.example.com/health',
      delivery_key: '29:2026-08-22 14:03:11.527:0',
      links: [{ href: 'https://api.example.com/health' }],
      details: { monitor_id: 29, monitor_path: 'Production / API health', status: 'down' },
    });
    expect(alert!.occurred_at?.toISOString()).toBe('2026-08-22T14:03:11.527Z');
    expect(alert!.raw).toBe(req.rawBody.toString('utf8'));
  });

  it('maps an UP heartbeat to a resolve of the same key', () => {
    const [alert] = uptimeKumaAdapter.parse(json(bodyOf(KUMA_UP)), kuma).alerts;
    expect(alert).toMatchObject({
      action: 'resolve',
      dedup_key: 'kuma:29',
      delivery_key: '29:2026-08-22 14:09:11.802:1',
    });
    expect(alert!.title).toBe('API health up: 200 - OK');
  });

  it('treats heartbeat:null (the Test button) as a test message', () => {
    const [alert] = uptimeKumaAdapter.parse(
      json({ heartbeat: null, monitor: null, msg: 'Guardia Testing' }),
      kuma,
    ).alerts;
    expect(alert).toMatchObject({
      action: 'test',
      dedup_key: 'kuma:test',
      title: 'Guardia Testing',
      delivery_key: null,
    });
  });

  it('PENDING (2) and MAINTENANCE (3) neither page nor resolve', () => {
    for (const status of [2, 3]) {
      const body = bodyOf(KUMA_DOWN);
      body.heartbeat.status = status;
      expect(uptimeKumaAdapter.parse(json(body), kuma).alerts).toEqual([]);
    }
  });

  it('reads the form-data content type (field "data" = the JSON)', () => {
    const { body, contentType } = multipart({ data: JSON.stringify(bodyOf(KUMA_DOWN)) });
    const [alert] = uptimeKumaAdapter.parse(request(body, { 'content-type': contentType }), kuma).alerts;
    expect(alert).toMatchObject({
      action: 'trigger',
      dedup_key: 'kuma:29',
      delivery_key: '29:2026-08-22 14:03:11.527:0',
    });
    expect(
      multipartField(
        Buffer.from('--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nñ\r\n--b--'),
        'multipart/form-data; boundary="b"',
        'x',
      ),
    ).toBe('ñ');
    const noData = multipart({ other: '{}' });
    expect(
      failure(() =>
        uptimeKumaAdapter.parse(request(noData.body, { 'content-type': noData.contentType }), kuma),
      ).message,
    ).toContain('"data"');
  });

  it('accepts ids and status as digit strings; a policy severity_map can set the severity', () => {
    const body = bodyOf(KUMA_DOWN);
    body.monitor.id = ' 29 ';
    body.heartbeat.status = '0';
    const [alert] = uptimeKumaAdapter.parse(json(body), { ...kuma, severity_map: { down: 'sev2' } }).alerts;
    expect(alert).toMatchObject({ dedup_key: 'kuma:29', severity: 'sev2', action: 'trigger' });
  });

  it('refuses wrong types naming the field', () => {
    const status = bodyOf(KUMA_DOWN);
    status.heartbeat.status = 'down';
    expect(failure(() => uptimeKumaAdapter.parse(json(status), kuma))).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('heartbeat.status'),
    });
    const unknownStatus = bodyOf(KUMA_DOWN);
    unknownStatus.heartbeat.status = 7;
    expect(failure(() => uptimeKumaAdapter.parse(json(unknownStatus), kuma)).message).toContain(
      'heartbeat.status',
    );
    const noMonitor = bodyOf(KUMA_DOWN);
    delete (noMonitor as Obj).monitor;
    expect(failure(() => uptimeKumaAdapter.parse(json(noMonitor), kuma)).message).toContain('monitor');
    expect(failure(() => uptimeKumaAdapter.parse(request('{"heartbeat":'), kuma)).code).toBe('invalid_json');
  });

  it('authenticates with a Bearer header or ?token=', () => {
    const secret = SECRETS.UPTIME_KUMA_TOKEN;
    expect(() => uptimeKumaAdapter.authenticate(request('{}', bearer(secret)), secret)).not.toThrow();
    expect(() => uptimeKumaAdapter.authenticate(request('{}', {}, { token: secret }), secret)).not.toThrow();
    expect(
      failure(() => uptimeKumaAdapter.authenticate(request('{}', bearer(`${secret}x`)), secret)).code,
    ).toBe('unauthenticated');
    expect(failure(() => uptimeKumaAdapter.authenticate(request('{}'), secret)).message).toContain(
      'missing token',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('UptimeRobot adapter', () => {
  it('maps alertType "1" to a trigger keyed by monitor, delivery = monitor + type + time', () => {
    const req = json(bodyOf(ROBOT_DOWN));
    const [alert] = uptimeRobotAdapter.parse(req, robot).alerts;
    expect(alert).toMatchObject({
      action: 'trigger',
      dedup_key: 'uptimerobot:784350743',
      delivery_key: '784350743:1:1755871391',
      title: 'API health down: Connection Timeout',
      severity: null,
      source: 'https://api.example.com/health',
      links: [
        { href: 'https://api.example.com/health' },
        { href: 'https://dashboard.uptimerobot.com/monitors/784350743' },
      ],
      details: { monitor_id: '784350743', alert_type: '1', alert_details: 'Connection Timeout' },
    });
    expect(alert!.details.down_for_seconds).toBeUndefined();
    expect(alert!.occurred_at?.toISOString()).toBe('2025-08-22T14:03:11.000Z');
    expect(alert!.raw).toBe(req.rawBody.toString('utf8'));
  });

  it('maps alertType "2" to a resolve, keeping the downtime', () => {
    const [alert] = uptimeRobotAdapter.parse(json(bodyOf(ROBOT_UP)), robot).alerts;
    expect(alert).toMatchObject({
      action: 'resolve',
      dedup_key: 'uptimerobot:784350743',
      delivery_key: '784350743:2:1755871751',
    });
    expect(alert!.details).toMatchObject({ down_for_seconds: 360, down_for: '6 minutes and 0 seconds' });
  });

  it('coerces numbers-as-strings with whitespace, and bare numbers, to the same keys', () => {
    const body = {
      ...bodyOf(ROBOT_DOWN),
      monitorID: ' 784350743\n',
      alertType: ' 1 ',
      alertDateTime: 1755871391,
      alertDuration: '  ',
    };
    const [alert] = uptimeRobotAdapter.parse(json(body), robot).alerts;
    expect(alert).toMatchObject({
      action: 'trigger',
      dedup_key: 'uptimerobot:784350743',
      delivery_key: '784350743:1:1755871391',
    });
    const numeric = { ...bodyOf(ROBOT_DOWN), monitorID: 784350743, alertType: 1 };
    expect(uptimeRobotAdapter.parse(json(numeric), robot).alerts[0]).toMatchObject({
      dedup_key: 'uptimerobot:784350743',
    });
  });

  it('reads x-www-form-urlencoded bodies, and fields in the URL when the body is empty', () => {
    const form = new URLSearchParams(bodyOf(ROBOT_DOWN) as Record<string, string>).toString();
    const fromForm = uptimeRobotAdapter.parse(
      request(form, { 'content-type': 'application/x-www-form-urlencoded' }),
      robot,
    ).alerts[0];
    const fromJson = uptimeRobotAdapter.parse(json(bodyOf(ROBOT_DOWN)), robot).alerts[0];
    expect({ ...fromForm, raw: '' }).toEqual({ ...fromJson, raw: '' });
    expect(fromForm!.raw).toBe(form);
    // Without a Content-Type, a body that is not JSON is read as a form.
    expect(uptimeRobotAdapter.parse(request(form), robot).alerts[0]).toMatchObject({
      delivery_key: '784350743:1:1755871391',
    });
    const query = { token: 'x', ...(bodyOf(ROBOT_UP) as Record<string, string>) };
    expect(uptimeRobotAdapter.parse(request('', {}, query), robot).alerts[0]).toMatchObject({
      action: 'resolve',
      dedup_key: 'uptimerobot:784350743',
    });
    expect(failure(() => uptimeRobotAdapter.parse(request('', {}, { token: 'x' }), robot)).message).toContain(
      'empty',
    );
  });

  it('alertType 3 (SSL/domain expiry) and other types do not page', () => {
    for (const alertType of ['3', '99']) {
      expect(uptimeRobotAdapter.parse(json({ ...bodyOf(ROBOT_DOWN), alertType }), robot).alerts).toEqual([]);
    }
  });

  it('refuses values that are not numbers, naming the field', () => {
    expect(
      failure(() => uptimeRobotAdapter.parse(json({ ...bodyOf(ROBOT_DOWN), alertType: 'down' }), robot)),
    ).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('alertType'),
    });
    expect(
      failure(() => uptimeRobotAdapter.parse(json({ ...bodyOf(ROBOT_DOWN), monitorID: { id: 1 } }), robot))
        .message,
    ).toContain('monitorID');
    expect(
      failure(() =>
        uptimeRobotAdapter.parse(json({ ...bodyOf(ROBOT_DOWN), alertDateTime: '2025-08-22' }), robot),
      ).message,
    ).toContain('alertDateTime');
    expect(
      failure(() => uptimeRobotAdapter.parse(json({ ...bodyOf(ROBOT_DOWN), alertDuration: 'soon' }), robot))
        .message,
    ).toContain('alertDuration');
    const missing = bodyOf(ROBOT_DOWN);
    delete missing.monitorID;
    expect(failure(() => uptimeRobotAdapter.parse(json(missing), robot)).message).toContain('monitorID');
  });

  it('authenticates with X-Webhook-Token, a Bearer header or ?token=', () => {
    const secret = SECRETS.UPTIMEROBOT_TOKEN;
    expect(() =>
      uptimeRobotAdapter.authenticate(request('{}', { 'x-webhook-token': secret }), secret),
    ).not.toThrow();
    expect(() => uptimeRobotAdapter.authenticate(request('{}', bearer(secret)), secret)).not.toThrow();
    expect(() => uptimeRobotAdapter.authenticate(request('{}', {}, { token: secret }), secret)).not.toThrow();
    const wrong = failure(() =>
      uptimeRobotAdapter.authenticate(request('{}', { 'x-webhook-token': 'nope' }), secret),
    );
    expect(wrong).toMatchObject({
      code: 'unauthenticated',
      message: expect.stringContaining('X-Webhook-Token'),
    });
    expect(wrong.message).not.toContain(secret);
    expect(
      failure(() => uptimeRobotAdapter.authenticate(request('{}', { 'x-webhook-token': ' ' }), secret))
        .message,
    ).toContain('empty');
    expect(failure(() => uptimeRobotAdapter.authenticate(request('{}'), secret)).code).toBe(
      'unauthenticated',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('Better Stack adapter', () => {
  const event = (name: string, change: (body: ReturnType<typeof bodyOf>) => void = () => undefined) => {
    const body = bodyOf(BETTER_STARTED);
    body.event = name;
    change(body);
    return json(body);
  };

  it('maps "started" to a trigger keyed by the monitor', () => {
    const req = json(bodyOf(BETTER_STARTED));
    const [alert] = betterStackAdapter.parse(req, better).alerts;
    expect(alert).toMatchObject({
      action: 'trigger',
      dedup_key: 'betterstack:monitor:4',
      delivery_key: '1:started:2020-10-21T10:51:28.151Z',
      title: 'Tesla.com homepage: Error 500',
      severity: null,
      source: 'https://tesla.com',
      links: [{ href: 'https://tesla.com' }],
      details: { incident_id: '1', monitor_id: '4', cause: 'Error 500' },
    });
    expect(alert!.occurred_at?.toISOString()).toBe('2020-10-21T10:51:28.151Z');
    expect(alert!.raw).toBe(req.rawBody.toString('utf8'));
  });

  it('maps acknowledged and resolved to the same key, each its own delivery', () => {
    const [ack] = betterStackAdapter.parse(
      event('acknowledged', (b) =>
        Object.assign(b.data.attributes, {
          acknowledged_at: '2020-10-21T10:55:00Z',
          acknowledged_by: 'ana@example.com',
        }),
      ),
      better,
    ).alerts;
    expect(ack).toMatchObject({
      action: 'acknowledge',
      dedup_key: 'betterstack:monitor:4',
      delivery_key: '1:acknowledged:2020-10-21T10:55:00Z',
    });
    expect(ack!.title).toBe('Tesla.com homepage acknowledged in Better Stack by ana@example.com');
    const [resolved] = betterStackAdapter.parse(
      event('resolved', (b) => (b.data.attributes.resolved_at = '2020-10-21T11:00:00Z')),
      better,
    ).alerts;
    expect(resolved).toMatchObject({
      action: 'resolve',
      dedup_key: 'betterstack:monitor:4',
      delivery_key: '1:resolved:2020-10-21T11:00:00Z',
    });
  });

  it('keys by heartbeat or by incident when there is no monitor; comments do not page', () => {
    const heartbeat = event(
      'started',
      (b) => (b.data.relationships = { heartbeat: { data: { id: '77', type: 'heartbeat' } } }),
    );
    expect(betterStackAdapter.parse(heartbeat, better).alerts[0]!.dedup_key).toBe('betterstack:heartbeat:77');
    const manual = event('started', (b) => delete b.data.relationships);
    expect(betterStackAdapter.parse(manual, better).alerts[0]!.dedup_key).toBe('betterstack:incident:1');
    expect(betterStackAdapter.parse(event('comment'), better).alerts).toEqual([]);
    expect(betterStackAdapter.parse(event('reopened'), better).alerts[0]).toMatchObject({
      action: 'trigger',
      dedup_key: 'betterstack:monitor:4',
    });
  });

  it('refuses other webhook kinds and wrong types, naming the field', () => {
    expect(
      failure(() =>
        betterStackAdapter.parse(
          event('started', (b) => (b.data.type = 'monitor')),
          better,
        ),
      ).message,
    ).toContain('data.type');
    expect(
      failure(() =>
        betterStackAdapter.parse(
          event('started', (b) => (b.data.id = { x: 1 })),
          better,
        ),
      ).message,
    ).toContain('data.id');
    expect(
      failure(() =>
        betterStackAdapter.parse(
          event('started', (b) => (b.data.attributes.name = 5)),
          better,
        ),
      ).message,
    ).toContain('data.attributes.name');
    const noEvent = bodyOf(BETTER_STARTED);
    delete noEvent.event;
    expect(failure(() => betterStackAdapter.parse(json(noEvent), better)).message).toContain('event');
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe.each(DIALECTS)('uptime monitors over HTTP on %s', (dialect) => {
  let t: TestApp;
  // Kept by reference by the app: a test unsets a secret to check the refusal, then restores it.
  const env: Record<string, string> = { ...TEST_ENV, ...SECRETS };
  beforeAll(async () => {
    t = await startTestApp(dialect, { env });
  });
  afterAll(async () => t.close());

  const post = (name: string, payload: string | Buffer, headers: Record<string, string> = {}, query = '') =>
    t.app.inject({
      method: 'POST',
      url: `/hooks/${name}${query}`,
      headers: { 'content-type': 'application/json', ...headers },
      payload,
    });
  const getIncident = async (id: number) =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json();
  const kumaAuth = bearer(SECRETS.UPTIME_KUMA_TOKEN);
  const robotAuth = { 'x-webhook-token': SECRETS.UPTIMEROBOT_TOKEN };
  const betterQuery = `?token=${SECRETS.BETTERSTACK_TOKEN}`;
  const raw = (name: string) => JSON.stringify(fixture(name).request.body);

  it('Uptime Kuma: down opens a sev1 on the uptime route; a redelivery is a duplicate; up resolves it', async () => {
    const down = await post('uptime-kuma', raw(KUMA_DOWN), {
      ...fixture(KUMA_DOWN).request.headers,
      ...kumaAuth,
    });
    expect(down.statusCode).toBe(202);
    const [opened] = down.json().results;
    expect(opened).toMatchObject({ outcome: 'opened', dedup_key: 'kuma:29' });
    expect(await getIncident(opened.incident_id)).toMatchObject({
      severity: 'sev1',
      status: 'triggered',
      route: 'uptime',
      alert_count: 1,
    });

    const again = await post('uptime-kuma', raw(KUMA_DOWN), kumaAuth);
    expect(again.statusCode).toBe(202);
    expect(again.json().results[0]).toMatchObject({ outcome: 'duplicate', incident_id: opened.incident_id });
    expect((await getIncident(opened.incident_id)).alert_count).toBe(1);

    const up = await post('uptime-kuma', raw(KUMA_UP), kumaAuth);
    expect(up.json().results[0]).toMatchObject({ outcome: 'resolved', incident_id: opened.incident_id });
    expect((await getIncident(opened.incident_id)).status).toBe('resolved');
  });

  it('Uptime Kuma: the Test button is recorded as "test" and opens nothing', async () => {
    const res = await post(
      'uptime-kuma',
      JSON.stringify({ heartbeat: null, monitor: null, msg: 'Guardia Testing' }),
      kumaAuth,
    );
    expect(res.statusCode).toBe(202);
    expect(res.json().results).toEqual([
      expect.objectContaining({ outcome: 'test', incident_id: null, dedup_key: 'kuma:test' }),
    ]);
  });

  it('Uptime Kuma: form-data deliveries are accepted', async () => {
    const body = bodyOf(KUMA_DOWN);
    body.monitor.id = 31;
    const { body: payload, contentType } = multipart({ data: JSON.stringify(body) });
    const res = await post('uptime-kuma', payload, { ...kumaAuth, 'content-type': contentType });
    expect(res.statusCode).toBe(202);
    expect(res.json().results[0]).toMatchObject({ outcome: 'opened', dedup_key: 'kuma:31' });
  });

  it('UptimeRobot: down (X-Webhook-Token) opens a sev1, a retry is a duplicate, up (?token=) resolves', async () => {
    const down = await post('uptimerobot', raw(ROBOT_DOWN), {
      ...fixture(ROBOT_DOWN).request.headers,
      ...robotAuth,
    });
    expect(down.statusCode).toBe(202);
    const [opened] = down.json().results;
    expect(opened).toMatchObject({ outcome: 'opened', dedup_key: 'uptimerobot:784350743' });
    expect(await getIncident(opened.incident_id)).toMatchObject({ severity: 'sev1', route: 'uptime' });

    // The same alert re-sent with different whitespace and encoding is still the same delivery.
    const form = new URLSearchParams({
      ...(bodyOf(ROBOT_DOWN) as Record<string, string>),
      monitorID: ' 784350743 ',
    }).toString();
    const retry = await post('uptimerobot', form, {
      ...robotAuth,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(retry.json().results[0]).toMatchObject({ outcome: 'duplicate', incident_id: opened.incident_id });
    expect((await getIncident(opened.incident_id)).alert_count).toBe(1);

    const up = await post('uptimerobot', raw(ROBOT_UP), {}, `?token=${SECRETS.UPTIMEROBOT_TOKEN}`);
    expect(up.json().results[0]).toMatchObject({ outcome: 'resolved', incident_id: opened.incident_id });
    expect((await getIncident(opened.incident_id)).status).toBe('resolved');
  });

  it('UptimeRobot: a form-encoded alert with a Bearer header opens an incident; SSL expiry does not', async () => {
    const form = new URLSearchParams({
      ...(bodyOf(ROBOT_DOWN) as Record<string, string>),
      monitorID: '900001',
      alertDetails: 'HTTP 502 - Bad Gateway',
    });
    const res = await post('uptimerobot', form.toString(), {
      ...bearer(SECRETS.UPTIMEROBOT_TOKEN),
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.statusCode).toBe(202);
    const [opened] = res.json().results;
    expect(opened).toMatchObject({ outcome: 'opened', dedup_key: 'uptimerobot:900001' });
    expect((await getIncident(opened.incident_id)).title).toBe('API health down: HTTP 502 - Bad Gateway');

    const ssl = await post(
      'uptimerobot',
      JSON.stringify({ ...bodyOf(ROBOT_DOWN), alertType: '3', sslExpiryDaysLeft: '7' }),
      robotAuth,
    );
    expect(ssl.statusCode).toBe(202);
    expect(ssl.json().results).toEqual([]);
  });

  it('Better Stack: started opens a sev1, acknowledged acknowledges, resolved resolves; redelivery is a duplicate', async () => {
    const started = await post(
      'betterstack',
      raw(BETTER_STARTED),
      fixture(BETTER_STARTED).request.headers,
      betterQuery,
    );
    expect(started.statusCode).toBe(202);
    const [opened] = started.json().results;
    expect(opened).toMatchObject({ outcome: 'opened', dedup_key: 'betterstack:monitor:4' });
    expect(await getIncident(opened.incident_id)).toMatchObject({
      severity: 'sev1',
      route: 'uptime',
      title: 'Tesla.com homepage: Error 500',
    });

    const again = await post('betterstack', raw(BETTER_STARTED), {}, betterQuery);
    expect(again.json().results[0]).toMatchObject({ outcome: 'duplicate' });
    expect((await getIncident(opened.incident_id)).alert_count).toBe(1);

    const later = (event: string, attributes: Obj) => {
      const body = bodyOf(BETTER_STARTED);
      body.event = event;
      Object.assign(body.data.attributes, attributes);
      return post('betterstack', JSON.stringify(body), bearer(SECRETS.BETTERSTACK_TOKEN));
    };
    const ack = await later('acknowledged', { acknowledged_at: '2020-10-21T10:55:00Z' });
    expect(ack.json().results[0]).toMatchObject({ outcome: 'acknowledged', incident_id: opened.incident_id });
    expect((await getIncident(opened.incident_id)).status).toBe('acknowledged');
    const resolved = await later('resolved', {
      acknowledged_at: '2020-10-21T10:55:00Z',
      resolved_at: '2020-10-21T11:00:00Z',
    });
    expect(resolved.json().results[0]).toMatchObject({
      outcome: 'resolved',
      incident_id: opened.incident_id,
    });
    expect((await getIncident(opened.incident_id)).status).toBe('resolved');
  });

  it('a token with one byte changed, or no token, is refused with 401', async () => {
    const changed = (token: string) => token.slice(0, -1) + (token.endsWith('f') ? 'e' : 'f');
    const cases: [string, string, Record<string, string>, string][] = [
      ['uptime-kuma', raw(KUMA_DOWN), bearer(changed(SECRETS.UPTIME_KUMA_TOKEN)), ''],
      ['uptimerobot', raw(ROBOT_DOWN), { 'x-webhook-token': changed(SECRETS.UPTIMEROBOT_TOKEN) }, ''],
      ['uptimerobot', raw(ROBOT_DOWN), {}, `?token=${changed(SECRETS.UPTIMEROBOT_TOKEN)}`],
      ['betterstack', raw(BETTER_STARTED), {}, `?token=${changed(SECRETS.BETTERSTACK_TOKEN)}`],
    ];
    for (const [name, payload, headers, query] of cases) {
      const res = await post(name, payload, headers, query);
      expect(res.statusCode, name).toBe(401);
      expect(res.json().error.code).toBe('unauthenticated');
      expect(res.body).not.toContain('test-token');
    }
    for (const name of ['uptime-kuma', 'uptimerobot', 'betterstack']) {
      const res = await post(name, '{}');
      expect(res.statusCode, name).toBe(401);
      expect(res.json().error.message).toContain('missing token');
    }
  });

  it('refuses every request with a 401 naming the variable while the secret is unset', async () => {
    for (const [name, variable] of [
      ['uptime-kuma', 'UPTIME_KUMA_TOKEN'],
      ['uptimerobot', 'UPTIMEROBOT_TOKEN'],
      ['betterstack', 'BETTERSTACK_TOKEN'],
    ] as const) {
      const saved = env[variable]!;
      env[variable] = '';
      try {
        const res = await post(name, '{}', bearer(saved));
        expect(res.statusCode, name).toBe(401);
        expect(res.json().error.message).toContain(variable);
      } finally {
        env[variable] = saved;
      }
    }
  });

  it('Unicode, a 100 KB field, missing optional fields and unknown extra fields are accepted (202)', async () => {
    const big = 'x'.repeat(100 * 1024);
    const kumaBody = bodyOf(KUMA_DOWN);
    Object.assign(kumaBody.monitor, {
      id: 41,
      name: 'Ünïcødé 🚨 监控 \u0000 \ud800',
      url: null,
      extra: { nested: [1, 2] },
    });
    Object.assign(kumaBody.heartbeat, {
      msg: big,
      ping: undefined,
      duration: undefined,
      localDateTime: undefined,
    });
    kumaBody.unknownTopLevel = true;
    const minimalKuma = { heartbeat: { status: 0, time: '2026-08-22 14:03:11.527' }, monitor: { id: 42 } };
    const robotBody = {
      monitorID: '900002',
      monitorFriendlyName: 'Ünïcødé 🚨',
      alertType: '1',
      alertDateTime: '1755871391',
      alertDetails: big,
      newField: 'x',
    };
    const betterBody = bodyOf(BETTER_STARTED);
    Object.assign(betterBody.data, {
      id: '2',
      relationships: { monitor: { data: { id: '5', type: 'monitor' } } },
    });
    Object.assign(betterBody.data.attributes, { name: `监控 ${big}`, cause: '💥', url: undefined, extra: 1 });
    const minimalBetter = {
      event: 'started',
      data: { id: '3', type: 'incident', attributes: { name: 'Bare', started_at: 'yesterday' } },
    };
    const cases: [string, unknown, Record<string, string>, string][] = [
      ['uptime-kuma', kumaBody, kumaAuth, 'kuma:41'],
      ['uptime-kuma', minimalKuma, kumaAuth, 'kuma:42'],
      ['uptimerobot', robotBody, robotAuth, 'uptimerobot:900002'],
      ['betterstack', betterBody, bearer(SECRETS.BETTERSTACK_TOKEN), 'betterstack:monitor:5'],
      ['betterstack', minimalBetter, bearer(SECRETS.BETTERSTACK_TOKEN), 'betterstack:incident:3'],
    ];
    for (const [name, body, headers, dedupKey] of cases) {
      const res = await post(name, JSON.stringify(body), headers);
      expect(res.statusCode, `${name} ${dedupKey}: ${res.body.slice(0, 300)}`).toBe(202);
      const [result] = res.json().results;
      expect(result).toMatchObject({ outcome: 'opened', dedup_key: dedupKey });
      const incident = await getIncident(result.incident_id);
      expect(incident.severity).toBe('sev1');
      expect(incident.title.length).toBeLessThanOrEqual(1024);
      // NUL and lone surrogates cannot be stored as text (PostgreSQL / SQLite): they become U+FFFD.
      if (dedupKey === 'kuma:41') expect(incident.title).toMatch(/^Ünïcødé 🚨 监控 \uFFFD \uFFFD down: x+…$/);
    }
    const nulInForm = 'monitorID=900003&alertType=1&alertDateTime=1755871391&monitorFriendlyName=a%00b';
    const form = await post('uptimerobot', nulInForm, {
      ...robotAuth,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.statusCode).toBe(202);
    expect((await getIncident(form.json().results[0].incident_id)).title).toBe('a\uFFFDb down');
    const rawNul = await post('uptimerobot', 'monitorID=900004&alertType=1&alertDateTime=1\u0000', {
      ...robotAuth,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(rawNul.statusCode).toBe(400);
    expect(rawNul.json().error.message).toContain('NUL');
  });

  it('wrong types and malformed bodies are refused with 400 naming the field', async () => {
    const kumaBody = bodyOf(KUMA_DOWN);
    kumaBody.heartbeat.status = 'down';
    const cases: [string, string, Record<string, string>, string][] = [
      ['uptime-kuma', JSON.stringify(kumaBody), kumaAuth, 'heartbeat.status'],
      ['uptime-kuma', '[1,2]', kumaAuth, '(body)'],
      ['uptime-kuma', '{"heartbeat": {', kumaAuth, 'not valid JSON'],
      ['uptimerobot', JSON.stringify({ ...bodyOf(ROBOT_DOWN), alertType: true }), robotAuth, 'alertType'],
      ['uptimerobot', JSON.stringify({ ...bodyOf(ROBOT_DOWN), monitorID: 'abc' }), robotAuth, 'monitorID'],
      [
        'betterstack',
        JSON.stringify({ ...bodyOf(BETTER_STARTED), event: 42 }),
        bearer(SECRETS.BETTERSTACK_TOKEN),
        'event',
      ],
      [
        'betterstack',
        JSON.stringify({ event: 'started', data: 'incident' }),
        bearer(SECRETS.BETTERSTACK_TOKEN),
        'data',
      ],
    ];
    for (const [name, payload, headers, field] of cases) {
      const res = await post(name, payload, headers);
      expect(res.statusCode, `${name}: ${res.body}`).toBe(400);
      expect(res.json().error.message).toContain(field);
    }
  });
});

/**
 * Sentry: the integration-platform adapter (`sentry`, signed with Sentry-Hook-Signature) and the legacy WebHooks
 * plugin adapter (`sentry-legacy`, token in the URL) on their own, then through `POST /hooks/sentry` and
 * `POST /hooks/sentry-legacy` on SQLite and PostgreSQL with the documented fixtures.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { IntegrationPolicy } from '../../src/domain/policy/schema.js';
import type { InboundRequest } from '../../src/ingest/adapter.js';
import { sentryAdapter } from '../../src/ingest/sentry.js';
import { sentryLegacyAdapter } from '../../src/ingest/sentry-legacy.js';
import { GuardiaError } from '../../src/shared/errors.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const SECRET = 'test-sentry-client-secret';
const LEGACY_TOKEN = 'sentry-legacy-token-0123456789abcdef';
const ENV = { ...TEST_ENV, SENTRY_CLIENT_SECRET: SECRET, SENTRY_LEGACY_TOKEN: LEGACY_TOKEN };

interface Fixture {
  _secret?: string;
  request: { headers: Record<string, string>; body: Record<string, unknown> };
}

function fixture(name: string): Fixture {
  return JSON.parse(
    fs.readFileSync(path.join(import.meta.dirname, '../fixtures/integrations', name), 'utf8'),
  ) as Fixture;
}

const ISSUE_CREATED = fixture('sentry-issue-created.json');
const ERROR_CREATED = fixture('sentry-error-created.json');
const METRIC_RESOLVED = fixture('sentry-metric-alert-resolved.json');
const LEGACY = fixture('sentry-legacy-webhooks-plugin.json');

/** The documented bytes of a fixture (no rawBody given: JSON.stringify of its body) and its headers. */
function fixtureRequest(f: Fixture): { raw: Buffer; headers: Record<string, string> } {
  const headers = Object.fromEntries(Object.entries(f.request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { raw: Buffer.from(JSON.stringify(f.request.body), 'utf8'), headers };
}

function sign(raw: string | Buffer, secret = SECRET): string {
  return crypto.createHmac('sha256', secret).update(raw).digest('hex');
}

/** Headers Sentry sends for `resource`, signed over `raw`. */
function sentryHeaders(resource: string, raw: string | Buffer, secret = SECRET): Record<string, string> {
  return {
    'content-type': 'application/json',
    'request-id': crypto.randomUUID().replaceAll('-', ''),
    'sentry-hook-resource': resource,
    'sentry-hook-timestamp': '1724342400',
    'sentry-hook-signature': sign(raw, secret),
  };
}

function inbound(
  raw: string | Buffer,
  headers: Record<string, string>,
  query: Record<string, string> = {},
): InboundRequest {
  return {
    headers,
    query,
    rawBody: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'),
    receivedAt: new Date('2026-11-27T10:00:00Z'),
  };
}

/** A signed request for `body` (serialized as given). */
function signed(resource: string, body: unknown): InboundRequest {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return inbound(raw, sentryHeaders(resource, raw));
}

type Json = Record<string, unknown>;
const issueOf = (f: Fixture) => (f.request.body.data as Json).issue as Json;

/** The issue-created fixture with the issue's fields and the action replaced. */
function issueBody(action: string, issue: Json = {}): Json {
  const body = ISSUE_CREATED.request.body;
  return { ...body, action, data: { issue: { ...issueOf(ISSUE_CREATED), ...issue } } };
}

/** The metric-alert fixture with the action, the incident's fields and the description replaced. */
function metricBody(action: string, incident: Json = {}, data: Json = {}): Json {
  const body = METRIC_RESOLVED.request.body;
  const base = body.data as Json;
  return {
    ...body,
    action,
    data: { ...base, metric_alert: { ...(base.metric_alert as Json), ...incident }, ...data },
  };
}

/** An issue-alert (event_alert) webhook as documented, trimmed to the fields that matter. */
function eventAlertBody(event: Json = {}, data: Json = {}): Json {
  return {
    action: 'triggered',
    actor: { id: 'sentry', name: 'Sentry', type: 'application' },
    data: {
      event: {
        culprit: '?(<anonymous>)',
        datetime: '2019-08-19T21:06:17.677000Z',
        event_id: 'e4874d664c3540c1a32eab185f12c5ab',
        issue_url: 'https://sentry.io/api/0/issues/1117540176/',
        issue_id: '1117540176',
        level: 'error',
        platform: 'javascript',
        project: 1,
        timestamp: 1566248777.677,
        title: 'ReferenceError: heck is not defined',
        url: 'https://sentry.io/api/0/projects/test-org/front-end/events/e4874d664c3540c1a32eab185f12c5ab/',
        web_url:
          'https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/',
        ...event,
      },
      triggered_rule: 'Very Important Alert Rule!',
      issue_alert: {
        title: 'Very Important Alert Rule!',
        settings: [{ name: 'channel', value: '#general' }],
      },
      ...data,
    },
    installation: { uuid: 'a8e5d37a-696c-4c54-adb5-b3f28d64c7de' },
  };
}

const policy = loadPolicy({});
const integration: IntegrationPolicy = policy.integrations.find((i) => i.name === 'sentry')!;
const legacyIntegration: IntegrationPolicy = policy.integrations.find((i) => i.name === 'sentry-legacy')!;

function caught(fn: () => unknown): GuardiaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GuardiaError);
    return err as GuardiaError;
  }
  throw new Error('expected a GuardiaError');
}

function expectError(fn: () => unknown, code: string, message: RegExp): GuardiaError {
  const err = caught(fn);
  expect(err.code).toBe(code);
  expect(err.message).toMatch(message);
  return err;
}

const parse = (req: InboundRequest, i: IntegrationPolicy = integration) => {
  sentryAdapter.authenticate(req, SECRET);
  return sentryAdapter.parse(req, i).alerts;
};

describe('sentry adapter: authentication over the raw bytes', () => {
  it.each([ISSUE_CREATED, ERROR_CREATED, METRIC_RESOLVED])(
    'accepts the documented signature of a fixture (%#)',
    (f) => {
      expect(f._secret).toBe(SECRET);
      const { raw, headers } = fixtureRequest(f);
      expect(() => sentryAdapter.authenticate(inbound(raw, headers), SECRET)).not.toThrow();
    },
  );

  it('verifies ASCII-escaped JSON as sent: re-serializing the parsed body would not match', () => {
    const raw = JSON.stringify(issueBody('created', { id: '42', title: 'x' })).replace(
      '"title":"x"',
      '"title":"Caf\\u00e9 \\u2603 \\ud83d\\udd25"',
    );
    expect(JSON.stringify(JSON.parse(raw))).not.toBe(raw);
    const [alert] = parse(inbound(raw, sentryHeaders('issue', raw)));
    expect(alert!.title).toBe('[front-end] Café ☃ 🔥');
    expect(alert!.raw).toBe(raw);
  });

  it('refuses a missing, malformed, wrong-length or wrong signature, naming the header and never the secret', () => {
    const { raw, headers } = fixtureRequest(ISSUE_CREATED);
    const without = { ...headers };
    delete without['sentry-hook-signature'];
    const cases: [Record<string, string>, RegExp][] = [
      [without, /missing Sentry-Hook-Signature/],
      [{ ...headers, 'sentry-hook-signature': '' }, /missing Sentry-Hook-Signature/],
      [
        { ...headers, 'sentry-hook-signature': 'sha256=' + headers['sentry-hook-signature'] },
        /malformed Sentry-Hook-Signature.*64 hex/,
      ],
      [
        { ...headers, 'sentry-hook-signature': headers['sentry-hook-signature']!.slice(0, 63) },
        /malformed Sentry-Hook-Signature/,
      ],
      [{ ...headers, 'sentry-hook-signature': 'z'.repeat(64) }, /malformed Sentry-Hook-Signature/],
      [
        { ...headers, 'sentry-hook-signature': sign(raw, 'another-secret') },
        /Sentry-Hook-Signature does not match/,
      ],
    ];
    for (const [h, message] of cases) {
      const err = expectError(
        () => sentryAdapter.authenticate(inbound(raw, h), SECRET),
        'unauthenticated',
        message,
      );
      expect(err.message).not.toContain(SECRET);
    }
  });

  it('refuses the documented bytes with one byte changed', () => {
    const { raw, headers } = fixtureRequest(ISSUE_CREATED);
    const tampered = Buffer.from(raw);
    tampered[tampered.indexOf('1170820242')] = '2'.charCodeAt(0);
    expectError(
      () => sentryAdapter.authenticate(inbound(tampered, headers), SECRET),
      'unauthenticated',
      /does not match/,
    );
  });

  it('accepts an upper-case hex signature', () => {
    const { raw, headers } = fixtureRequest(ISSUE_CREATED);
    const upper = { ...headers, 'sentry-hook-signature': headers['sentry-hook-signature']!.toUpperCase() };
    expect(() => sentryAdapter.authenticate(inbound(raw, upper), SECRET)).not.toThrow();
  });
});

describe('sentry adapter: mapping', () => {
  it('issue created → trigger on sentry:issue:{id}, titled with the project, linked to the issue page', () => {
    const { raw, headers } = fixtureRequest(ISSUE_CREATED);
    const [alert, ...rest] = parse(inbound(raw, headers));
    expect(rest).toHaveLength(0);
    expect(alert).toMatchObject({
      integration: 'sentry',
      action: 'trigger',
      dedup_key: 'sentry:issue:1170820242',
      title: '[front-end] ReferenceError: blooopy is not defined',
      severity: 'sev2',
      source: 'front-end',
      links: [{ href: 'https://test-org.sentry.io/issues/1170820242/', text: 'Sentry issue' }],
      delivery_key: 'issue:created:1170820242:unresolved',
      raw: raw.toString('utf8'),
    });
    expect(alert!.occurred_at?.toISOString()).toBe('2019-08-19T20:58:37.391Z');
    expect(alert!.details).toMatchObject({
      short_id: 'FRONT-END-9',
      level: 'error',
      substatus: 'escalating',
      issue_id: '1170820242',
    });
  });

  it('issue resolved → resolve; unresolved (regression) → trigger; each resolve/regress cycle is a new delivery', () => {
    const resolved = parse(signed('issue', issueBody('resolved', { status: 'resolved' })))[0]!;
    expect(resolved).toMatchObject({ action: 'resolve', dedup_key: 'sentry:issue:1170820242' });
    expect(resolved.delivery_key).toBe('issue:resolved:1170820242:resolved:2019-08-19T20:58:37.391000Z');
    const regressed = parse(
      signed('issue', issueBody('unresolved', { substatus: 'regressed', lastSeen: '2019-08-20T08:00:00Z' })),
    )[0]!;
    expect(regressed).toMatchObject({ action: 'trigger', dedup_key: 'sentry:issue:1170820242' });
    expect(regressed.occurred_at?.toISOString()).toBe('2019-08-20T08:00:00.000Z');
    const resolvedAgain = parse(
      signed('issue', issueBody('resolved', { status: 'resolved', lastSeen: '2019-08-20T08:00:00Z' })),
    )[0]!;
    expect(resolvedAgain.delivery_key).not.toBe(resolved.delivery_key);
  });

  it.each(['assigned', 'ignored', 'archived', 'constructor', 'something-new'])(
    'issue %s → no alert',
    (action) => {
      expect(parse(signed('issue', issueBody(action, { status: 'ignored' })))).toEqual([]);
    },
  );

  it.each(['installation', 'comment', 'seer', 'preprod_artifact', '__proto__', 'constructor'])(
    'resource %s → no alert, whatever its body',
    (resource) => {
      expect(parse(signed(resource, { action: 'created', data: { comment: 'x' } }))).toEqual([]);
      expect(parse(signed(resource, { unexpected: [1, 2, 3] }))).toEqual([]);
    },
  );

  it('error created → trigger on the issue of the event, delivery keyed by the event id', () => {
    const { raw, headers } = fixtureRequest(ERROR_CREATED);
    const [alert] = parse(inbound(raw, headers));
    expect(alert).toMatchObject({
      action: 'trigger',
      dedup_key: 'sentry:issue:1170820242',
      title: '[front-end] ReferenceError: blooopy is not defined',
      severity: 'sev2',
      delivery_key: 'error:created:1170820242:bb78c1407cea4519aa397afc059c793d',
      links: [
        { href: 'https://sentry.io/organizations/test-org/issues/1170820242/', text: 'Sentry issue' },
        {
          href: 'https://sentry.io/organizations/test-org/issues/1170820242/events/bb78c1407cea4519aa397afc059c793d/',
          text: 'Sentry event',
        },
      ],
    });
    expect(alert!.occurred_at?.toISOString()).toBe('2019-08-19T20:58:37.391Z');
  });

  it('event_alert triggered → trigger on the issue; rule kept; another event or rule is another delivery', () => {
    const [alert] = parse(signed('event_alert', eventAlertBody()));
    expect(alert).toMatchObject({
      action: 'trigger',
      dedup_key: 'sentry:issue:1117540176',
      title: '[front-end] ReferenceError: heck is not defined',
      severity: 'sev2',
      details: { triggered_rule: 'Very Important Alert Rule!', event_id: 'e4874d664c3540c1a32eab185f12c5ab' },
    });
    expect(alert!.delivery_key).toMatch(
      /^event_alert:triggered:1117540176:e4874d664c3540c1a32eab185f12c5ab:/,
    );
    const other = parse(signed('event_alert', eventAlertBody({ event_id: 'ffff' })))[0]!;
    const otherRule = parse(
      signed('event_alert', eventAlertBody({}, { triggered_rule: 'Another rule' })),
    )[0]!;
    expect(new Set([alert!.delivery_key, other.delivery_key, otherRule.delivery_key]).size).toBe(3);
    expect(parse(signed('event_alert', { ...eventAlertBody(), action: 'something-else' }))).toEqual([]);
  });

  it('metric alert: critical → sev2 trigger, warning → sev3, resolved → resolve on sentry:metric:{id}', () => {
    const { raw, headers } = fixtureRequest(METRIC_RESOLVED);
    const [resolved] = parse(inbound(raw, headers));
    expect(resolved).toMatchObject({
      action: 'resolve',
      dedup_key: 'sentry:metric:4',
      title: '[bar] Resolved: Too many errors',
      links: [{ href: 'https://sentry.io/organizations/baz/alerts/1/', text: 'Sentry metric alert' }],
    });
    expect(resolved!.delivery_key).toMatch(/^metric_alert:resolved:4:2:2020-09-13T12:26:40.000000Z:/);
    const critical = parse(
      signed(
        'metric_alert',
        metricBody('critical', { status: 20 }, { description_title: 'Critical: Too many errors' }),
      ),
    )[0]!;
    expect(critical).toMatchObject({
      action: 'trigger',
      severity: 'sev2',
      dedup_key: 'sentry:metric:4',
      title: '[bar] Critical: Too many errors',
    });
    const warning = parse(signed('metric_alert', metricBody('warning', { status: 10 })))[0]!;
    expect(warning).toMatchObject({ action: 'trigger', severity: 'sev3' });
    expect(parse(signed('metric_alert', metricBody('unknown-action')))).toEqual([]);
  });

  it('metric alert delivery keys: a redelivery repeats, critical again with a new value does not', () => {
    const first = parse(
      signed('metric_alert', metricBody('critical', { status: 20 }, { description_text: '1000 events' })),
    )[0]!;
    const redelivered = parse(
      signed('metric_alert', metricBody('critical', { status: 20 }, { description_text: '1000 events' })),
    )[0]!;
    const again = parse(
      signed('metric_alert', metricBody('critical', { status: 20 }, { description_text: '1400 events' })),
    )[0]!;
    expect(redelivered.delivery_key).toBe(first.delivery_key);
    expect(again.delivery_key).not.toBe(first.delivery_key);
  });

  it('severity: the policy severity_map first, then fatal/error → sev2, warning/info → sev3, unknown → route default', () => {
    const mapped: IntegrationPolicy = { ...integration, severity_map: { error: 'sev1', critical: 'sev1' } };
    const level = (lvl: unknown, i = integration) =>
      parse(signed('issue', issueBody('created', { level: lvl })), i)[0]!.severity;
    expect(level('error', mapped)).toBe('sev1');
    expect(level('fatal')).toBe('sev2');
    expect(level('warning')).toBe('sev3');
    expect(level('info')).toBe('sev3');
    expect(level('shrug')).toBeNull();
    expect(level(null)).toBeNull();
    expect(parse(signed('metric_alert', metricBody('critical')), mapped)[0]!.severity).toBe('sev1');
  });

  it('accepts minimal bodies (only the documented required fields) and unknown extra fields', () => {
    const [alert] = parse(
      signed('issue', { action: 'created', data: { issue: { id: 77, status: 'unresolved' } } }),
    );
    expect(alert).toMatchObject({
      dedup_key: 'sentry:issue:77',
      title: 'Sentry issue 77',
      severity: null,
      links: [],
      source: null,
    });
    const [metric] = parse(
      signed('metric_alert', { action: 'critical', data: { metric_alert: { id: '9' } } }),
    );
    expect(metric).toMatchObject({ dedup_key: 'sentry:metric:9', title: 'Sentry metric alert 9' });
    const [error] = parse(
      signed('error', { action: 'created', data: { error: { event_id: 'e1', issue_id: '5' } } }),
    );
    expect(error).toMatchObject({ dedup_key: 'sentry:issue:5', title: 'Sentry issue 5' });
    const extra = issueBody('created', { brandNew: { nested: [1] } });
    expect(parse(signed('issue', { ...extra, somethingElse: true }))).toHaveLength(1);
  });

  it('clips a 100 KB title and drops links that are not http(s)', () => {
    const [alert] = parse(
      signed('issue', issueBody('created', { title: 'x'.repeat(100_000), web_url: 'javascript:alert(1)' })),
    );
    expect(alert!.title.length).toBeLessThanOrEqual(1024);
    expect(alert!.links).toEqual([]);
  });

  it('refuses wrong types with invalid_input naming the field, and bad JSON with invalid_json', () => {
    expectError(
      () => parse(signed('issue', issueBody('created', { id: { nested: true } }))),
      'invalid_input',
      /data\.issue\.id/,
    );
    expectError(
      () => parse(signed('issue', issueBody('created', { status: 3 }))),
      'invalid_input',
      /data\.issue\.status/,
    );
    expectError(
      () => parse(signed('issue', issueBody('created', { title: ['a'] }))),
      'invalid_input',
      /data\.issue\.title/,
    );
    expectError(
      () => parse(signed('issue', { ...issueBody('created'), action: 5 })),
      'invalid_input',
      /action/,
    );
    expectError(
      () => parse(signed('issue', { action: 'created', data: {} })),
      'invalid_input',
      /data\.issue/,
    );
    expectError(
      () => parse(signed('metric_alert', metricBody('critical', { id: true }))),
      'invalid_input',
      /data\.metric_alert\.id/,
    );
    expectError(
      () => parse(signed('error', { action: 'created', data: { error: { issue_id: '5' } } })),
      'invalid_input',
      /data\.error\.event_id/,
    );
    expectError(
      () => parse(signed('event_alert', eventAlertBody({ issue_id: null }))),
      'invalid_input',
      /data\.event\.issue_id/,
    );
    expectError(
      () => parse(signed('issue', issueBody('created', { id: '9'.repeat(200) }))),
      'invalid_input',
      /data\.issue\.id/,
    );
    expectError(() => parse(signed('issue', '{"action": ')), 'invalid_json', /not valid JSON/);
    expectError(() => parse(signed('issue', '')), 'invalid_json', /empty/);
  });

  it('survives a malformed event URL (no project, no issue link) instead of failing', () => {
    const [alert] = parse(
      signed('error', {
        action: 'created',
        data: {
          error: {
            event_id: 'e',
            issue_id: '5',
            url: 'https://x/api/0/projects/o/%E0%A4%A/events/e/',
            web_url: 'x'.repeat(100_000),
          },
        },
      }),
    );
    expect(alert).toMatchObject({ title: 'Sentry issue 5', source: null, links: [] });
  });

  it('keeps control characters out of titles and keys (PostgreSQL text cannot hold a NUL)', () => {
    const [alert] = parse(
      signed(
        'issue',
        issueBody('resolved', { title: 'a\u0000b\nc', status: 'res\u0000olved', lastSeen: 'x'.repeat(500) }),
      ),
    );
    expect(alert!.title).toBe('[front-end] a b c');
    expect(alert!.delivery_key).toMatch(/^issue:resolved:1170820242:[0-9a-f]{16}:[0-9a-f]{16}$/);
    expectError(
      () => parse(signed('issue', issueBody('created', { id: '12\u00003' }))),
      'invalid_input',
      /data\.issue\.id.*control/,
    );
  });

  it('refuses a request without Sentry-Hook-Resource, naming the header', () => {
    const req = signed('issue', issueBody('created'));
    delete req.headers['sentry-hook-resource'];
    expectError(() => parse(req), 'invalid_input', /Sentry-Hook-Resource/);
  });
});

describe('sentry-legacy adapter', () => {
  const { raw } = fixtureRequest(LEGACY);

  it('authenticates with ?token= or a bearer token; refuses none or a wrong one', () => {
    expect(() =>
      sentryLegacyAdapter.authenticate(inbound(raw, {}, { token: LEGACY_TOKEN }), LEGACY_TOKEN),
    ).not.toThrow();
    expect(() =>
      sentryLegacyAdapter.authenticate(inbound(raw, bearer(LEGACY_TOKEN)), LEGACY_TOKEN),
    ).not.toThrow();
    expectError(
      () => sentryLegacyAdapter.authenticate(inbound(raw, {}), LEGACY_TOKEN),
      'unauthenticated',
      /missing token/,
    );
    expectError(
      () => sentryLegacyAdapter.authenticate(inbound(raw, {}, { token: 'nope' }), LEGACY_TOKEN),
      'unauthenticated',
      /invalid token/,
    );
  });

  it('maps the plugin body to a trigger on the same dedup key as the integration webhooks', () => {
    const [alert] = sentryLegacyAdapter.parse(inbound(raw, {}), legacyIntegration).alerts;
    expect(alert).toMatchObject({
      integration: 'sentry-legacy',
      action: 'trigger',
      dedup_key: 'sentry:issue:1170820242',
      title: '[front-end] ReferenceError: blooopy is not defined',
      severity: 'sev2',
      source: 'front-end',
      links: [
        {
          href: 'https://test-org.sentry.io/issues/1170820242/?referrer=webhooks_plugin',
          text: 'Sentry issue',
        },
      ],
      delivery_key: 'legacy:1170820242:bb78c1407cea4519aa397afc059c793d',
      details: { triggering_rules: ['Send a notification for new issues'], project_name: 'Front End' },
      raw: raw.toString('utf8'),
    });
    expect(alert!.occurred_at?.toISOString()).toBe('2019-08-19T20:58:37.391Z');
  });

  it('accepts a minimal body; refuses a wrong type naming the field', () => {
    const [alert] = sentryLegacyAdapter.parse(inbound('{"id":"5"}', {}), legacyIntegration).alerts;
    expect(alert).toMatchObject({ dedup_key: 'sentry:issue:5', title: 'Sentry issue 5', severity: null });
    expect(alert!.delivery_key).toMatch(/^legacy:5:body-[0-9a-f]{16}$/);
    expectError(
      () => sentryLegacyAdapter.parse(inbound('{"id":"5","level":7}', {}), legacyIntegration),
      'invalid_input',
      /level/,
    );
    expectError(
      () => sentryLegacyAdapter.parse(inbound('{"message":"x"}', {}), legacyIntegration),
      'invalid_input',
      /\bid\b/,
    );
  });
});

describe.each(DIALECTS)('POST /hooks/sentry and /hooks/sentry-legacy on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect, { env: ENV });
  });
  afterAll(async () => t.close());

  const post = (resource: string, raw: string | Buffer, headers = sentryHeaders(resource, raw)) =>
    t.app.inject({
      method: 'POST',
      url: '/hooks/sentry',
      headers,
      payload: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'),
    });
  const postBody = (resource: string, body: unknown) => post(resource, JSON.stringify(body));
  const getIncident = async (id: number) =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json();

  it('issue fixture opens an incident (route sentry, sev2); the error fixture attaches; a redelivery is a duplicate', async () => {
    const { raw, headers } = fixtureRequest(ISSUE_CREATED);
    const opened = await post('issue', raw, headers);
    expect(opened.statusCode).toBe(202);
    const [result] = opened.json().results;
    expect(result).toMatchObject({ outcome: 'opened', dedup_key: 'sentry:issue:1170820242' });
    expect(await getIncident(result.incident_id)).toMatchObject({
      status: 'triggered',
      severity: 'sev2',
      route: 'sentry',
      integration: 'sentry',
      title: '[front-end] ReferenceError: blooopy is not defined',
      links: [{ href: 'https://test-org.sentry.io/issues/1170820242/' }],
    });

    const duplicate = await post('issue', raw, headers);
    expect(duplicate.statusCode).toBe(202);
    expect(duplicate.json().results[0]).toMatchObject({
      outcome: 'duplicate',
      incident_id: result.incident_id,
    });

    const error = fixtureRequest(ERROR_CREATED);
    const attached = await post('error', error.raw, error.headers);
    expect(attached.statusCode).toBe(202);
    expect(attached.json().results[0]).toMatchObject({
      outcome: 'attached',
      incident_id: result.incident_id,
    });
    expect((await post('error', error.raw, error.headers)).json().results[0].outcome).toBe('duplicate');
    expect((await getIncident(result.incident_id)).alert_count).toBe(2);
  });

  it('the same bytes with one byte changed, or without a signature → 401', async () => {
    const { raw, headers } = fixtureRequest(ISSUE_CREATED);
    const tampered = Buffer.from(raw);
    const at = tampered.indexOf('blooopy');
    tampered[at] = 'B'.charCodeAt(0);
    const bad = await post('issue', tampered, headers);
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.message).toMatch(/Sentry-Hook-Signature does not match/);
    const without = { ...headers };
    delete without['sentry-hook-signature'];
    const missing = await post('issue', raw, without);
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.message).toMatch(/missing Sentry-Hook-Signature/);
  });

  it('issue resolved resolves the incident; a regression reopens it; the next resolve resolves it again', async () => {
    const id = '500001';
    const created = await postBody('issue', issueBody('created', { id }));
    const incidentId = created.json().results[0].incident_id as number;
    const resolved = await postBody('issue', issueBody('resolved', { id, status: 'resolved' }));
    expect(resolved.json().results[0]).toMatchObject({ outcome: 'resolved', incident_id: incidentId });
    expect(await getIncident(incidentId)).toMatchObject({
      status: 'resolved',
      resolved_by: 'integration:sentry',
    });

    const regressed = await postBody(
      'issue',
      issueBody('unresolved', { id, substatus: 'regressed', lastSeen: '2019-08-20T08:00:00Z' }),
    );
    expect(regressed.json().results[0]).toMatchObject({ outcome: 'reopened', incident_id: incidentId });
    const again = await postBody(
      'issue',
      issueBody('resolved', { id, status: 'resolved', lastSeen: '2019-08-20T08:00:00Z' }),
    );
    expect(again.json().results[0]).toMatchObject({ outcome: 'resolved', incident_id: incidentId });
    expect((await getIncident(incidentId)).status).toBe('resolved');
  });

  it('metric alert: critical opens, warning attaches, the resolved fixture resolves', async () => {
    const critical = await postBody(
      'metric_alert',
      metricBody('critical', { status: 20 }, { description_title: 'Critical: Too many errors' }),
    );
    expect(critical.statusCode).toBe(202);
    const [opened] = critical.json().results;
    expect(opened).toMatchObject({ outcome: 'opened', dedup_key: 'sentry:metric:4' });
    expect(await getIncident(opened.incident_id)).toMatchObject({
      severity: 'sev2',
      title: '[bar] Critical: Too many errors',
    });
    const warning = await postBody(
      'metric_alert',
      metricBody('warning', { status: 10 }, { description_text: '600 events' }),
    );
    expect(warning.json().results[0]).toMatchObject({ outcome: 'attached', incident_id: opened.incident_id });

    const { raw, headers } = fixtureRequest(METRIC_RESOLVED);
    const resolved = await post('metric_alert', raw, headers);
    expect(resolved.statusCode).toBe(202);
    expect(resolved.json().results[0]).toMatchObject({
      outcome: 'resolved',
      incident_id: opened.incident_id,
    });
    expect((await getIncident(opened.incident_id)).status).toBe('resolved');
  });

  it('event_alert opens an incident on the issue', async () => {
    const res = await postBody('event_alert', eventAlertBody({ issue_id: '500002' }));
    expect(res.statusCode).toBe(202);
    expect(res.json().results[0]).toMatchObject({ outcome: 'opened', dedup_key: 'sentry:issue:500002' });
  });

  it('unhandled resources and actions → 202 with no alert', async () => {
    for (const [resource, body] of [
      ['installation', { action: 'created', data: { installation: { uuid: 'x' } } }],
      ['comment', { action: 'created', data: { comment: 'hello', issue_id: 1 } }],
      ['issue', issueBody('assigned', { id: '500003' })],
      ['issue', issueBody('archived', { id: '500003', status: 'ignored' })],
    ] as const) {
      const res = await postBody(resource, body);
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ status: 'accepted', results: [] });
    }
  });

  it('Unicode, a 100 KB field, missing optional fields and unknown extra fields → 202', async () => {
    const bodies = [
      issueBody('created', {
        id: '500010',
        title: 'Ошибка 💥 — 日本語 \u0000 \u202e',
        project: { slug: 'café' },
      }),
      issueBody('created', { id: '500011', title: 'y'.repeat(100_000), culprit: 'z'.repeat(100_000) }),
      { action: 'created', data: { issue: { id: '500012', status: 'unresolved' } } },
      { ...issueBody('created', { id: '500013', whatever: { deep: [null, 1, 'x'] } }), extra: 'field' },
    ];
    for (const body of bodies) {
      const res = await postBody('issue', body);
      expect(res.statusCode).toBe(202);
      expect(res.json().results[0].outcome).toBe('opened');
    }
    const long = await getIncident(
      (await postBody('issue', issueBody('created', { id: '500011', title: 'y'.repeat(100_000) }))).json()
        .results[0].incident_id,
    );
    expect(long.title.length).toBeLessThanOrEqual(1024);
  });

  it('wrong types → 400 naming the field', async () => {
    const res = await postBody('issue', issueBody('created', { id: ['not', 'an', 'id'] }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_input' });
    expect(res.json().error.message).toMatch(/data\.issue\.id/);
    const metric = await postBody('metric_alert', metricBody('critical', { projects: 'bar' }));
    expect(metric.statusCode).toBe(400);
    expect(metric.json().error.message).toMatch(/data\.metric_alert\.projects/);
  });

  it('legacy plugin: ?token= accepted, duplicate detected, same issue as the integration webhooks; no/wrong token → 401', async () => {
    const { raw } = fixtureRequest(LEGACY);
    const send = (url: string, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'user-agent': 'sentry-webhooks/24.8.0', ...headers },
        payload: raw,
      });
    const first = await send(`/hooks/sentry-legacy?token=${LEGACY_TOKEN}`);
    expect(first.statusCode).toBe(202);
    // The first test opened sentry:issue:1170820242 through the integration webhook: the plugin attaches to it.
    expect(first.json().results[0]).toMatchObject({
      outcome: 'attached',
      dedup_key: 'sentry:issue:1170820242',
    });
    expect((await send('/hooks/sentry-legacy', bearer(LEGACY_TOKEN))).json().results[0].outcome).toBe(
      'duplicate',
    );
    expect((await send('/hooks/sentry-legacy')).statusCode).toBe(401);
    expect((await send('/hooks/sentry-legacy?token=wrong')).statusCode).toBe(401);
  });
});

describe.each(DIALECTS)('Sentry secrets unset on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect, { env: TEST_ENV });
  });
  afterAll(async () => t.close());

  it('→ 401 naming SENTRY_CLIENT_SECRET / SENTRY_LEGACY_TOKEN', async () => {
    const { raw, headers } = fixtureRequest(ISSUE_CREATED);
    const res = await t.app.inject({ method: 'POST', url: '/hooks/sentry', headers, payload: raw });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toMatch(/SENTRY_CLIENT_SECRET/);
    const legacy = await t.app.inject({
      method: 'POST',
      url: `/hooks/sentry-legacy?token=${LEGACY_TOKEN}`,
      payload: fixtureRequest(LEGACY).raw,
    });
    expect(legacy.statusCode).toBe(401);
    expect(legacy.json().error.message).toMatch(/SENTRY_LEGACY_TOKEN/);
  });
});

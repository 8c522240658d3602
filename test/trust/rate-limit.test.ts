/**
 * Rate limits, with small limits so the tests are quick: per client address and minute, the inbound doors
 * (/hooks/*, /v2/enqueue, /ack/*, Slack interactions) answer 429 past GUARDIA_RATE_LIMIT_HOOKS, and an address
 * that failed API authentication GUARDIA_RATE_LIMIT_AUTH_FAILURES times gets 429 on /api until the minute ends.
 * Every 429 is Guardia's error body with `retry-after`. Other addresses are not affected; probes never limited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, loadConfig } from '../../src/config.js';
import { bearer, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const alert = (n: number, remoteAddress = '127.0.0.1') =>
  t!.app.inject({
    method: 'POST',
    url: '/hooks/generic',
    remoteAddress,
    headers: { ...bearer(TEST_ENV.GENERIC_TOKEN), 'content-type': 'application/json' },
    payload: { title: `Burst ${n}`, dedup_key: 'burst' },
  });

function expect429(res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }) {
  expect(res.statusCode).toBe(429);
  const body = res.json() as { error: { code: string; message: string } };
  expect(body.error.code).toBe('rate_limited');
  expect(body.error.message).toMatch(/retry in/);
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('rate limit on the inbound doors (GUARDIA_RATE_LIMIT_HOOKS)', () => {
  it('past the limit an address gets 429 with retry-after on hooks, enqueue, ack links and Slack; others and the API do not', async () => {
    t = await startTestApp('sqlite', {
      appOptions: { rateLimits: { hooksPerMinute: 5, authFailuresPerMinute: 0 } },
    });
    for (let n = 1; n <= 5; n++) expect((await alert(n)).statusCode).toBe(202);
    const over = await alert(6);
    expect429(over);
    // One budget per address across the doors: enqueue, ack links and Slack buttons are limited too.
    for (const req of [
      {
        method: 'POST' as const,
        url: '/v2/enqueue',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      },
      { method: 'GET' as const, url: '/ack/x.y' },
      {
        method: 'POST' as const,
        url: '/hooks/slack/interactions',
        payload: '',
        headers: { 'content-type': 'text/plain' },
      },
    ])
      expect429(await t.app.inject(req));
    // Nothing over the limit was stored: the burst has exactly five alerts.
    const incidents = await t.services.incidents.list({ status: 'all', limit: 10 });
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.alert_count).toBe(5);
    // Another address, the API and the probes are untouched.
    expect((await alert(7, '10.1.2.3')).statusCode).toBe(202);
    for (let i = 0; i < 10; i++)
      expect(
        (await t.app.inject({ method: 'GET', url: '/api/v1/incidents', headers: bearer(t.tokens.viewer) }))
          .statusCode,
      ).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('rate limit on failed API authentication (GUARDIA_RATE_LIMIT_AUTH_FAILURES)', () => {
  it('after N bad tokens in a minute the address gets 429 on /api, even with a good token, until the minute ends', async () => {
    t = await startTestApp('sqlite', {
      appOptions: { rateLimits: { hooksPerMinute: 0, authFailuresPerMinute: 3 } },
    });
    const call = (token: string | undefined, remoteAddress = '127.0.0.1') =>
      t!.app.inject({
        method: 'GET',
        url: '/api/v1/incidents',
        remoteAddress,
        headers: token === undefined ? {} : bearer(token),
      });
    // Successes never count.
    for (let i = 0; i < 10; i++) expect((await call(t.tokens.viewer)).statusCode).toBe(200);
    expect((await call('gdn_wrong-1')).statusCode).toBe(401);
    expect((await call(undefined)).statusCode).toBe(401);
    expect((await call('gdn_wrong-3')).statusCode).toBe(401);
    expect429(await call('gdn_wrong-4'));
    expect429(await call(t.tokens.admin));
    // 403 (a real token, too small a role) is not an authentication failure, and other addresses go on.
    expect((await call(t.tokens.viewer, '10.9.9.9')).statusCode).toBe(200);
    const declare = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      remoteAddress: '10.9.9.9',
      headers: bearer(t.tokens.viewer),
      payload: { title: 'x', severity: 'sev3' },
    });
    expect(declare.statusCode).toBe(403);
    expect((await call(t.tokens.viewer, '10.9.9.9')).statusCode).toBe(200);
    // Hooks are not API authentication: a sender with a bad token is refused, not blocked.
    const hook = await t.app.inject({
      method: 'POST',
      url: '/hooks/generic',
      headers: bearer('wrong'),
      payload: { title: 'x' },
    });
    expect(hook.statusCode).toBe(401);
    // The minute ends: the address may try again.
    t.clock.advance(61_000);
    expect((await call(t.tokens.viewer)).statusCode).toBe(200);
  });
});

describe('configuration', () => {
  it('defaults: both limits on (30 failed authentications per address per minute)', () => {
    expect(DEFAULT_RATE_LIMITS.hooksPerMinute).toBeGreaterThan(0);
    expect(DEFAULT_RATE_LIMITS.authFailuresPerMinute).toBe(30);
    expect(loadConfig({}, {}).rateLimits).toEqual(DEFAULT_RATE_LIMITS);
  });

  it('GUARDIA_RATE_LIMIT_HOOKS and GUARDIA_RATE_LIMIT_AUTH_FAILURES override them; 0 turns a limit off; nonsense is refused by name', () => {
    expect(
      loadConfig({}, { GUARDIA_RATE_LIMIT_HOOKS: '120', GUARDIA_RATE_LIMIT_AUTH_FAILURES: '0' }).rateLimits,
    ).toEqual({ hooksPerMinute: 120, authFailuresPerMinute: 0 });
    expect(() => loadConfig({}, { GUARDIA_RATE_LIMIT_HOOKS: 'lots' })).toThrow(/GUARDIA_RATE_LIMIT_HOOKS/);
    expect(() => loadConfig({}, { GUARDIA_RATE_LIMIT_AUTH_FAILURES: '-1' })).toThrow(
      /GUARDIA_RATE_LIMIT_AUTH_FAILURES/,
    );
  });
});

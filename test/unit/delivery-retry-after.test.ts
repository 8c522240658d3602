/**
 * The outbox honours a provider's own "wait this long" (Retry-After, GitHub's rate-limit reset) instead of
 * spending its attempts on answers known to fail; a person with another contact method is failed over at once
 * rather than kept waiting longer than max_backoff for one provider.
 */
import { describe, expect, it } from 'vitest';
import { afterAttempt, MAX_PROVIDER_WAIT_MS } from '../../src/domain/escalation/delivery.js';
import { loadPolicy } from '../../src/domain/policy/load.js';
import { retryAfterMs } from '../../src/notify/http.js';

const delivery = loadPolicy({}).delivery; // 5 attempts, 10 s doubling to 2 min, ±20 % jitter
const mid = () => 0.5; // no jitter
const failed = (retryAfter?: number) => ({
  ok: false,
  retryable: true,
  ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
});

describe('retryAfterMs (what the provider asked for)', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');
  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '120' }), now)).toBe(120_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Fri, 27 Nov 2026 10:01:30 GMT' }), now)).toBe(90_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Fri, 27 Nov 2026 09:00:00 GMT' }), now)).toBe(0);
  });
  it("reads GitHub's exhausted rate limit and its reset (epoch seconds)", () => {
    const headers = new Headers({
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(now / 1000 + 300),
    });
    expect(retryAfterMs(headers, now)).toBe(300_000);
    expect(retryAfterMs(new Headers({ 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': '1' }), now)).toBe(
      undefined,
    );
  });
  it('is undefined when the provider said nothing usable', () => {
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
  });
});

describe('afterAttempt with a provider wait', () => {
  it('without one, uses its own exponential backoff', () => {
    expect(afterAttempt(failed(), 1, delivery, false, mid)).toEqual({ action: 'retry', delayMs: 10_000 });
    expect(afterAttempt(failed(), 2, delivery, false, mid)).toEqual({ action: 'retry', delayMs: 20_000 });
  });
  it('a shorter wait than the backoff changes nothing', () => {
    expect(afterAttempt(failed(3_000), 1, delivery, true, mid)).toEqual({ action: 'retry', delayMs: 10_000 });
  });
  it('a longer wait is honoured (team channels wait for the reset, up to an hour)', () => {
    expect(afterAttempt(failed(90_000), 1, delivery, false, mid)).toEqual({
      action: 'retry',
      delayMs: 90_000,
      providerWait: true,
    });
    expect(afterAttempt(failed(45 * 60_000), 1, delivery, false, mid)).toEqual({
      action: 'retry',
      delayMs: 45 * 60_000,
      providerWait: true,
    });
    expect(afterAttempt(failed(5 * 3_600_000), 1, delivery, false, mid)).toEqual({
      action: 'retry',
      delayMs: MAX_PROVIDER_WAIT_MS,
      providerWait: true,
    });
  });
  it('a person is not kept waiting beyond max_backoff when another contact method exists', () => {
    expect(afterAttempt(failed(60_000), 1, delivery, true, mid)).toEqual({
      action: 'retry',
      delayMs: 60_000,
      providerWait: true,
    });
    expect(afterAttempt(failed(10 * 60_000), 1, delivery, true, mid)).toEqual({
      action: 'give_up',
      failover: true,
    });
  });
  it('the last attempt still gives up, whatever the provider said', () => {
    expect(afterAttempt(failed(60_000), 5, delivery, false, mid)).toEqual({
      action: 'give_up',
      failover: false,
    });
  });
});

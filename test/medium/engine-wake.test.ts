/**
 * The engine is woken after a commit only when that commit gave it work: a new incident's first page must start at
 * once (alert → page latency), while the thousands of alerts of a storm that only attach to an open incident must
 * not each make it run its claim queries.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

describe.each(DIALECTS)('engine wake-ups on %s', (dialect) => {
  let t: TestApp;
  let wakes: number;

  beforeEach(async () => {
    t = await startTestApp(dialect);
    wakes = 0;
    t.services.scheduler.onCommit(() => wakes++);
  });
  afterEach(async () => {
    await t.close();
  });

  it('a new incident wakes it; alerts attaching to the open incident do not; the resolve does', async () => {
    expect(await post('storm-1')).toBe('opened');
    expect(wakes).toBe(1);

    const attached = await Promise.all(Array.from({ length: 20 }, () => post('storm-1')));
    expect(attached).toEqual(Array(20).fill('attached'));
    expect(wakes).toBe(1);

    expect(await post('storm-1', 'resolved')).toBe('resolved');
    expect(wakes).toBe(2);
  });

  it('an acknowledgement gives the engine nothing new; a declared incident does', async () => {
    const declared = await t.services.incidents.declare(
      { title: 'Login broken', severity: 'sev2' },
      'user:alice',
    );
    expect(wakes).toBe(1);
    await t.services.incidents.act(declared.id, 'acknowledge', 'user:alice');
    expect(wakes).toBe(1);
    await t.services.incidents.act(declared.id, 'resolve', 'user:alice');
    expect(wakes).toBe(2);
  });

  /** Posts a generic alert; returns what Guardia did with it. */
  async function post(dedup_key: string, status: 'firing' | 'resolved' = 'firing'): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/hooks/generic',
      headers: { ...bearer(TEST_ENV.GENERIC_TOKEN), 'content-type': 'application/json' },
      payload: { title: 'Checkout 5xx above 5 %', severity: 'critical', dedup_key, status },
    });
    expect(res.statusCode, res.body).toBe(202);
    return (res.json() as { results: { outcome: string }[] }).results[0]!.outcome;
  }
});

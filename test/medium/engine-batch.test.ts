/**
 * The engine fires a storm's due steps and records its delivery outcomes in batches, with one commit per batch:
 * every incident must still get its own pages and its own timeline, in order. Slack and email are left unconfigured here
 * (as in a fresh install), so each page fails over from Slack to email and then reports the person unreachable:
 * the longest chain the built-in policy makes per incident. Runs on SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const INCIDENTS = 120;

describe.each(DIALECTS)('engine batches on %s', (dialect) => {
  let t: TestApp;
  let engine: Engine;

  beforeEach(async () => {
    t = await startTestApp(dialect);
    engine = new Engine(t.services, { random: () => 0.5 });
  });
  afterEach(async () => {
    await engine.stop();
    await t.close();
  });

  it('a storm of new incidents: each paged once, each timeline whole and in order', async () => {
    const ids = await Promise.all(Array.from({ length: INCIDENTS }, (_, i) => open(`batch-${i}`)));
    expect(new Set(ids).size).toBe(INCIDENTS);

    const db = t.services.store.db;
    expect(await engine.runDue()).toEqual({ timers: INCIDENTS, notifications: 2 * INCIDENTS });

    const notes = await db
      .selectFrom('notifications')
      .select(['incident_id', 'channel', 'status'])
      .orderBy('id')
      .execute();
    expect(notes).toHaveLength(2 * INCIDENTS);
    for (const id of ids)
      expect(notes.filter((n) => Number(n.incident_id) === id).map((n) => [n.channel, n.status])).toEqual([
        ['slack', 'failed'],
        ['email', 'failed'],
      ]);

    const events = await db
      .selectFrom('incident_events')
      .select(['incident_id', 'kind', 'message'])
      .orderBy('id')
      .execute();
    for (const id of ids) {
      const mine = events.filter((e) => Number(e.incident_id) === id);
      expect(mine.map((e) => e.kind)).toEqual([
        'opened',
        'escalation_planned',
        'escalated',
        'notification_gave_up',
        'notification_failover',
        'notification_gave_up',
        'notification_unreachable',
      ]);
      expect(mine[3]!.message).toMatch(/via slack failed for good .*SLACK_WEBHOOK_URL/);
      expect(mine[5]!.message).toMatch(/via email failed for good .*SMTP_URL/);
    }
  });

  /** Opens an incident through the generic hook; returns its id. */
  async function open(dedup_key: string): Promise<number> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/hooks/generic',
      headers: { ...bearer(TEST_ENV.GENERIC_TOKEN), 'content-type': 'application/json' },
      payload: { title: 'Checkout 5xx above 5 %', severity: 'critical', dedup_key },
    });
    expect(res.statusCode, res.body).toBe(202);
    return (res.json() as { results: { incident_id: number }[] }).results[0]!.incident_id;
  }
});

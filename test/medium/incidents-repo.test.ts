/**
 * `insertIncident` answers with the incident built from the row it wrote (plus the new id) instead of reading it
 * back, to keep the ingest path short. That answer must be exactly what a read returns, on every store, including
 * text the store cleans on the way in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIncident, insertIncident } from '../../src/store/incidents-repo.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/harness.js';

const T = '2026-11-29T10:00:00.000Z';

describe.each(DIALECTS)('insertIncident on %s', (dialect) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await openTestStore(dialect);
  });
  afterAll(async () => s.cleanup());

  it('answers with the incident as a read returns it, NUL and lone surrogates already cleaned', async () => {
    const inserted = await insertIncident(s.store.db, {
      title: 'Disk\u0000full \ud800 on db-1',
      severity: 'sev2',
      status: 'triggered',
      dedup_key: 'disk-db-1',
      integration: 'generic',
      route: 'default',
      source: 'db-1\u0000',
      started_at: T,
      ack_due_at: T,
      mitigate_due_at: T,
      acknowledged_at: null,
      acknowledged_by: null,
      ack_implied: 0,
      mitigated_at: null,
      mitigated_by: null,
      mitigation_implied: 0,
      resolved_at: null,
      resolved_by: null,
      alert_count: 1,
      last_alert_at: T,
      reopen_count: 0,
      details: JSON.stringify({ disk: '/var', used: 0.97 }),
      links: JSON.stringify([{ href: 'https://grafana.example.com/d/disk' }]),
      escalation_plan: null,
      created_at: T,
      updated_at: T,
    });
    expect(inserted.title).toBe('Disk\uFFFDfull \uFFFD on db-1');
    expect(inserted.details).toEqual({ disk: '/var', used: 0.97 });
    expect(await getIncident(s.store.db, inserted.id)).toEqual(inserted);
  });
});

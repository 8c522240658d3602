/**
 * The hash-chained audit log on SQLite and PostgreSQL: an edited or deleted entry is found and named.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/services/audit.js';
import { FakeClock } from '../../src/shared/clock.js';
import { DIALECTS, openTestStore, type TestStore } from '../helpers/harness.js';

describe.each(DIALECTS)('audit log on %s', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => t?.cleanup());

  async function seeded(): Promise<AuditLog> {
    t = await openTestStore(dialect);
    const audit = new AuditLog(t.store, new FakeClock('2026-11-27T10:00:00Z'));
    await audit.append({
      actor: 'token:alice',
      action: 'gate.override',
      subject: 'override:1',
      data: { reason: 'hotfix' },
    });
    await audit.append({ actor: 'token:bob', action: 'evidence.record', subject: 'access-review:2026-11' });
    await audit.append({
      actor: 'cli:carol',
      action: 'gate.decision',
      subject: 'decision:1',
      data: { result: 'blocked' },
    });
    return audit;
  }

  it('an untouched chain verifies', async () => {
    const audit = await seeded();
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 3, problems: [] });
  });

  it('an edited entry is named', async () => {
    const audit = await seeded();
    await t!.store.db
      .updateTable('audit_log')
      .set({ data: '{"reason":"nothing to see"}' })
      .where('id', '=', 1)
      .execute();
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { id: 1, problem: expect.stringContaining('entry 1 (gate.override override:1') },
    ]);
  });

  it('a deleted entry breaks the chain at the next one', async () => {
    const audit = await seeded();
    await t!.store.db.deleteFrom('audit_log').where('id', '=', 2).execute();
    const result = await audit.verify();
    expect(result.problems).toEqual([{ id: 3, problem: expect.stringContaining('does not follow entry 1') }]);
  });

  it('concurrent appends still form one chain', async () => {
    const audit = await seeded();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => audit.append({ actor: 'x', action: 'test', subject: `s${i}` })),
    );
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 23 });
  });
});

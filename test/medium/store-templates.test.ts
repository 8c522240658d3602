/**
 * The hot statements are built once per database and re-run with new values (src/store/templates.ts). They must
 * write and read exactly what the query builder would, keep SQLite's and PostgreSQL's SQL apart when both are
 * open in one process, and put every value in its own column whatever the order of a row's keys.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { insertRows, statement, updateWhere } from '../../src/store/templates.js';
import { openTestStore, type TestStore } from '../helpers/harness.js';

const T = '2026-11-27T10:00:00.000Z';

// Resolved, so that several rows may share a dedup key (only one open incident per key is allowed).
const incident = (title: string, dedup_key: string | null) => ({
  title,
  severity: 'sev2',
  status: 'resolved',
  dedup_key,
  started_at: T,
  ack_due_at: T,
  mitigate_due_at: T,
  created_at: T,
  updated_at: T,
});

const byKey = statement('test.byKey', (db: Store['db'], key: string) =>
  db.selectFrom('incidents').select(['id', 'title']).where('dedup_key', '=', key).orderBy('id'),
);

describe('statement templates on SQLite and PostgreSQL in one process', () => {
  const stores: Record<'sqlite' | 'postgres', TestStore | undefined> = {
    sqlite: undefined,
    postgres: undefined,
  };
  beforeAll(async () => {
    stores.sqlite = await openTestStore('sqlite');
    stores.postgres = await openTestStore('postgres');
  });
  afterAll(async () => {
    await stores.sqlite?.cleanup();
    await stores.postgres?.cleanup();
  });

  it.each(['sqlite', 'postgres'] as const)(
    '%s: inserts, reads and updates with new values each run',
    async (dialect) => {
      const db = stores[dialect]!.store.db;
      // Built for one dialect first, then the other: each must get its own SQL (placeholders differ).
      const one = await insertRows<'incidents', { id: number }>(db, 'incidents', [incident('A', 'k1')], 'id');
      const two = await insertRows<'incidents', { id: number }>(
        db,
        'incidents',
        [incident("O'Brien; drop table incidents; --", 'k2'), incident('C', 'k2')],
        'id',
      );
      expect(two.rows).toHaveLength(2);
      expect((await byKey(db, 'k1')).rows).toEqual([{ id: one.rows[0]!.id, title: 'A' }]);
      expect((await byKey(db, 'k2')).rows.map((r) => r.title)).toEqual([
        "O'Brien; drop table incidents; --",
        'C',
      ]);
      expect((await byKey(db, 'nope')).rows).toEqual([]);

      const all = await insertRows<'incidents', { title: string; status: string }>(
        db,
        'incidents',
        [incident('D', null)],
        'all',
      );
      expect(all.rows[0]).toMatchObject({ title: 'D', status: 'resolved', alert_count: 0 }); // defaults applied;

      // undefined leaves a column alone, as with the query builder
      const changed = await updateWhere(
        db,
        'incidents',
        { resolved_at: T, acknowledged_at: T, title: undefined },
        { dedup_key: 'k2', status: 'resolved' },
      );
      expect(changed).toBe(2);
      const rows = await db
        .selectFrom('incidents')
        .select(['title', 'resolved_at'])
        .where('dedup_key', '=', 'k2')
        .orderBy('id')
        .execute();
      expect(rows).toEqual([
        { title: "O'Brien; drop table incidents; --", resolved_at: T },
        { title: 'C', resolved_at: T },
      ]);
      expect(await updateWhere(db, 'incidents', { title: 'x' }, { dedup_key: 'none' })).toBe(0);
      const count = await sql<{ n: number }>`select count(*) as n from incidents`.execute(db);
      expect(Number(count.rows[0]!.n)).toBe(4);
    },
  );

  it('refuses rows whose columns differ; takes the same columns in another order by name', async () => {
    const db = stores.sqlite!.store.db;
    const { dedup_key: _omitted, ...withoutKey } = incident('E', null);
    await expect(insertRows(db, 'incidents', [incident('E', 'k5'), withoutKey])).rejects.toThrow(
      /every row needs the columns/,
    );
    // The same columns in another order are fine: values go by name.
    const { title, ...rest } = incident('F', 'k6');
    await insertRows(db, 'incidents', [incident('G', 'k6'), { ...rest, title }]);
    expect((await byKey(db, 'k6')).rows.map((r) => r.title)).toEqual(['G', 'F']);
  });
});

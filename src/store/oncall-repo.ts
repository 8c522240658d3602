/**
 * On-call override rows (`oncall_overrides`). Callers pass the transaction of the change so the row and its
 * audit entry commit together.
 */
import type { Kysely, Selectable } from 'kysely';
import type { OnCallOverride } from '../domain/oncall/override.js';
import type { Database, OnCallOverrideTable } from './schema.js';
import { cleanRow } from '../shared/text.js';

function toOverride(row: Selectable<OnCallOverrideTable>): OnCallOverride {
  return { ...row, id: Number(row.id) };
}

export async function insertOverride(
  db: Kysely<Database>,
  values: Omit<OnCallOverride, 'id' | 'cancelled_at' | 'cancelled_by'>,
): Promise<OnCallOverride> {
  const row = await db
    .insertInto('oncall_overrides')
    .values(cleanRow({ ...values, cancelled_at: null, cancelled_by: null }))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toOverride(row);
}

export async function findOverride(db: Kysely<Database>, id: number): Promise<OnCallOverride | undefined> {
  const row = await db.selectFrom('oncall_overrides').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toOverride(row) : undefined;
}

/** Stamps the cancellation unless someone else already did; false when it was already cancelled. */
export async function markOverrideCancelled(
  db: Kysely<Database>,
  id: number,
  at: string,
  by: string,
): Promise<boolean> {
  const result = await db
    .updateTable('oncall_overrides')
    .set({ cancelled_at: at, cancelled_by: by })
    .where('id', '=', id)
    .where('cancelled_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Overrides not cancelled that are still in force or to come after `after` (ISO), oldest first. */
export async function overridesEndingAfter(db: Kysely<Database>, after: string): Promise<OnCallOverride[]> {
  const rows = await db
    .selectFrom('oncall_overrides')
    .selectAll()
    .where('cancelled_at', 'is', null)
    .where('ends_at', '>', after)
    .orderBy('id', 'asc')
    .execute();
  return rows.map(toOverride);
}

/** Overrides newest first: all of them, or only those not cancelled and not yet ended at `now`. */
export async function listOverrides(
  db: Kysely<Database>,
  filter: { status: 'active' | 'all'; now: string; limit: number },
): Promise<OnCallOverride[]> {
  let q = db.selectFrom('oncall_overrides').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.status === 'active') q = q.where('cancelled_at', 'is', null).where('ends_at', '>', filter.now);
  return (await q.execute()).map(toOverride);
}

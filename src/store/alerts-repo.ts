/**
 * Alert persistence: one row per accepted signal, with the raw payload, the incident it went to and what
 * happened to it. The (integration, delivery_key) unique index makes redeliveries detectable.
 */
import type { Insertable, Kysely } from 'kysely';
import { cleanRow } from '../shared/text.js';
import type { AlertRow, AlertTable, Database } from './schema.js';
import { insertRows } from './templates.js';

type Db = Kysely<Database>;

export type NewAlert = Insertable<AlertTable>;

export async function insertAlert(db: Db, alert: NewAlert): Promise<number> {
  const { rows } = await insertRows<'alerts', { id: number }>(db, 'alerts', [cleanRow(alert)], 'id');
  return Number(rows[0]!.id);
}

export async function findDelivery(
  db: Db,
  integration: string,
  deliveryKey: string,
): Promise<Pick<AlertRow, 'id' | 'incident_id' | 'dedup_key'> | undefined> {
  return db
    .selectFrom('alerts')
    .select(['id', 'incident_id', 'dedup_key'])
    .where('integration', '=', integration)
    .where('delivery_key', '=', deliveryKey)
    .executeTakeFirst();
}

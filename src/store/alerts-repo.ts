/**
 * Alert persistence: one row per accepted signal, with the raw payload, the incident it went to and what
 * happened to it. The (integration, delivery_key) unique index makes redeliveries detectable.
 */
import type { Kysely } from 'kysely';
import { cleanRow } from '../shared/text.js';
import type { AlertRow, Database } from './schema.js';

type Db = Kysely<Database>;

export interface NewAlert {
  integration: string;
  dedup_key: string;
  action: string;
  title: string;
  severity: string | null;
  source: string | null;
  received_at: string;
  incident_id: number | null;
  outcome: string;
  delivery_key: string | null;
  payload: string;
}

export async function insertAlert(db: Db, alert: NewAlert): Promise<number> {
  const { id } = await db
    .insertInto('alerts')
    .values(cleanRow(alert))
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
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

export async function listAlertsForIncident(db: Db, incidentId: number, limit = 100): Promise<AlertRow[]> {
  return db
    .selectFrom('alerts')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function countAlerts(db: Db): Promise<number> {
  const row = await db
    .selectFrom('alerts')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

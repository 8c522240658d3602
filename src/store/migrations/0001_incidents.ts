// 0001: the core incident loop — incidents with SLA deadlines, their append-only timeline, every accepted alert
// (raw payload kept), and hashed API tokens.
import { sql, type Kysely } from 'kysely';
import { idColumn, idConstraints, type Dialect } from './helpers.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('incidents')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('dedup_key', 'text')
    .addColumn('integration', 'text')
    .addColumn('route', 'text')
    .addColumn('source', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('ack_due_at', 'text', (c) => c.notNull())
    .addColumn('mitigate_due_at', 'text', (c) => c.notNull())
    .addColumn('acknowledged_at', 'text')
    .addColumn('acknowledged_by', 'text')
    .addColumn('ack_implied', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('mitigated_at', 'text')
    .addColumn('mitigated_by', 'text')
    .addColumn('mitigation_implied', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resolved_at', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('alert_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_alert_at', 'text')
    .addColumn('reopen_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('links', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // At most one open incident per dedup key, even with several Guardia instances writing at once.
  await sql`create unique index incidents_open_dedup on incidents (dedup_key) where status <> 'resolved' and dedup_key is not null`.execute(
    db,
  );
  await db.schema
    .createIndex('incidents_status_started')
    .on('incidents')
    .columns(['status', 'started_at'])
    .execute();
  await db.schema
    .createIndex('incidents_dedup_resolved')
    .on('incidents')
    .columns(['dedup_key', 'resolved_at'])
    .execute();

  await db.schema
    .createTable('incident_events')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('incident_id', 'integer', (c) => c.notNull().references('incidents.id'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema
    .createIndex('incident_events_incident')
    .on('incident_events')
    .columns(['incident_id', 'id'])
    .execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('integration', 'text', (c) => c.notNull())
    .addColumn('dedup_key', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('severity', 'text')
    .addColumn('source', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'integer', (c) => c.references('incidents.id'))
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('delivery_key', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alerts_incident').on('alerts').columns(['incident_id', 'id']).execute();
  // A redelivered webhook (same delivery id or body hash) is recognised and answered without a second alert.
  await db.schema
    .createIndex('alerts_delivery')
    .on('alerts')
    .columns(['integration', 'delivery_key'])
    .unique()
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
}

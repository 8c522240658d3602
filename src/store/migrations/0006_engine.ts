// 0006: the escalation engine. Every future action is a row (DESIGN.md §3 principle 3): `timers` hold escalation
// steps and SLA checks with a due time and a lease; `notifications` is the outbox of messages with their delivery
// attempts; `channel_refs` remembers provider objects (the GitHub issue of a failing workflow). The frozen
// escalation plan is stored on the incident.
import type { Kysely } from 'kysely';
import { idColumn, idConstraints, type Dialect } from './helpers.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('incidents').addColumn('escalation_plan', 'text').execute();

  await db.schema
    .createTable('timers')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    /** escalation_step | sla_check */
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'integer', (c) => c.notNull().references('incidents.id'))
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull().defaultTo('{}'))
    /** pending | done | cancelled */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('fired_at', 'text')
    .addColumn('outcome', 'text')
    .execute();
  await db.schema.createIndex('timers_due').on('timers').columns(['status', 'due_at']).execute();
  await db.schema.createIndex('timers_incident').on('timers').columns(['incident_id', 'status']).execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('incident_id', 'integer', (c) => c.notNull().references('incidents.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    /** The policy channel used for this attempt chain. */
    .addColumn('channel', 'text', (c) => c.notNull())
    /** The person paged (null for team channels) and which of their contacts this is. */
    .addColumn('person_id', 'text')
    .addColumn('contact_index', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('payload', 'text', (c) => c.notNull())
    /** pending | delivered | failed */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    .execute();
  await db.schema
    .createIndex('notifications_due')
    .on('notifications')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('notifications_incident')
    .on('notifications')
    .columns(['incident_id', 'id'])
    .execute();

  await db.schema
    .createTable('channel_refs')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('channel_refs_pk', ['channel', 'key'])
    .execute();
}

// 0007: on-call overrides. Someone holds a role for a while in place of its rotation or members; rows are never
// deleted (cancelling stamps cancelled_at/cancelled_by), so "who was on call at 03:00 last Sunday" keeps an answer.
// Every create and cancel is also in the audit log, written in the same transaction.
import type { Kysely } from 'kysely';
import { idColumn, idConstraints, type Dialect } from './helpers.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('oncall_overrides')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    /** A role id of the policy. */
    .addColumn('role', 'text', (c) => c.notNull())
    /** A person id of the policy. */
    .addColumn('person_id', 'text', (c) => c.notNull())
    /** [starts_at, ends_at): the person holds the role from starts_at until just before ends_at. */
    .addColumn('starts_at', 'text', (c) => c.notNull())
    .addColumn('ends_at', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('cancelled_at', 'text')
    .addColumn('cancelled_by', 'text')
    .execute();
  await db.schema
    .createIndex('oncall_overrides_role_time')
    .on('oncall_overrides')
    .columns(['role', 'ends_at'])
    .execute();
}

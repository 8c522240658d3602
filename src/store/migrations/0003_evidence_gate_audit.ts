// 0003: the evidence ledger (manual notes, weekly incident reviews, automated audits, with attachments), release
// gate decisions and break-glass overrides, and the append-only, hash-chained audit log.
import type { Kysely } from 'kysely';
import { idColumn, idConstraints, type Dialect } from './helpers.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('evidence_records')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('requirement_id', 'text', (c) => c.notNull())
    /** "2026-W48" or "2026-11", in the policy's time zone. */
    .addColumn('period', 'text', (c) => c.notNull())
    /** success | failure | recorded */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    /** manual | review | automated */
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addColumn('links', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema
    .createIndex('evidence_records_period')
    .on('evidence_records')
    .columns(['requirement_id', 'period', 'recorded_at'])
    .execute();

  await db.schema
    .createTable('evidence_attachments')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('record_id', 'integer', (c) => c.notNull().references('evidence_records.id'))
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('content', dialect === 'sqlite' ? 'blob' : 'bytea', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('evidence_attachments_record')
    .on('evidence_attachments')
    .column('record_id')
    .execute();

  await db.schema
    .createTable('gate_overrides')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('approved_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('revoked_by', 'text')
    .execute();

  await db.schema
    .createTable('gate_decisions')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('decided_at', 'text', (c) => c.notNull())
    /** pass | blocked | overridden */
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('checks', 'text', (c) => c.notNull())
    .addColumn('override_id', 'integer', (c) => c.references('gate_overrides.id'))
    /** cli | api | github */
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('context', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('gate_decisions_at').on('gate_decisions').column('decided_at').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
    /** sha256 of the previous entry's hash and this entry's content: editing or deleting a row breaks the chain. */
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .execute();
}

// 0002: completed GitHub Actions workflow runs (from webhooks and the API poller), the raw material of the
// weekly evidence ledger and the release gate. One row per run; a re-run attempt updates its run's row.
import type { Kysely } from 'kysely';
import { idColumn, idConstraints, type Dialect } from './helpers.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('workflow_runs')
    .addColumn('id', idColumn(dialect), (c) => idConstraints(c, dialect))
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('run_attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('run_number', 'integer')
    .addColumn('workflow_path', 'text', (c) => c.notNull())
    .addColumn('workflow_name', 'text', (c) => c.notNull())
    .addColumn('head_branch', 'text')
    .addColumn('head_sha', 'text')
    .addColumn('event', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('conclusion', 'text')
    .addColumn('html_url', 'text')
    .addColumn('run_started_at', 'text')
    .addColumn('completed_at', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('workflow_runs_run')
    .on('workflow_runs')
    .columns(['repo', 'run_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('workflow_runs_latest')
    .on('workflow_runs')
    .columns(['workflow_path', 'completed_at'])
    .execute();
}

/**
 * Workflow-run records (evidence): written by the GitHub webhook adapter and the API poller, read by the
 * evidence ledger and the release gate. Writing the same run twice is harmless: a row per (repo, run_id),
 * replaced only by the same or a later attempt.
 */
import type { Kysely } from 'kysely';
import type { Database, WorkflowRunRow } from './schema.js';

/** A completed run as collected (the stored row without its id and bookkeeping), from a webhook or the API. */
export type WorkflowRunRecord = Omit<WorkflowRunRow, 'id' | 'recorded_at' | 'source'> & {
  source: 'webhook' | 'api';
};

/** Inserts or updates a run; returns true when the stored row changed. */
export async function upsertWorkflowRun(
  db: Kysely<Database>,
  run: WorkflowRunRecord,
  now: string,
): Promise<boolean> {
  return (await saveWorkflowRun(db, run, now)) !== 'unchanged';
}

/** Same as {@link upsertWorkflowRun}, saying what happened (the poller counts new and updated runs). */
export async function saveWorkflowRun(
  db: Kysely<Database>,
  run: WorkflowRunRecord,
  now: string,
): Promise<'inserted' | 'updated' | 'unchanged'> {
  const existing = await db
    .selectFrom('workflow_runs')
    .select(['id', 'run_attempt', 'status', 'conclusion'])
    .where('repo', '=', run.repo)
    .where('run_id', '=', run.run_id)
    .executeTakeFirst();
  if (!existing) {
    await db
      .insertInto('workflow_runs')
      .values({ ...run, recorded_at: now })
      .execute();
    return 'inserted';
  }
  if (run.run_attempt < existing.run_attempt) return 'unchanged';
  if (
    run.run_attempt === existing.run_attempt &&
    run.status === existing.status &&
    run.conclusion === existing.conclusion
  )
    return 'unchanged';
  await db
    .updateTable('workflow_runs')
    .set({ ...run, recorded_at: now })
    .where('id', '=', existing.id)
    .execute();
  return 'updated';
}

export async function listWorkflowRuns(
  db: Kysely<Database>,
  filter: { workflow_path?: string; repo?: string; limit?: number } = {},
): Promise<WorkflowRunRow[]> {
  let q = db
    .selectFrom('workflow_runs')
    .selectAll()
    .orderBy('completed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100);
  if (filter.workflow_path) q = q.where('workflow_path', '=', filter.workflow_path);
  if (filter.repo) q = q.where('repo', '=', filter.repo);
  return q.execute();
}

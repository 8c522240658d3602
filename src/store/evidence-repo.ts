/**
 * Evidence persistence: records, their attachments, and the workflow runs the ledger reads. Rows in, rows out;
 * the evidence service decides. Every function takes a Kysely handle so callers choose the transaction.
 */
import type { Kysely } from 'kysely';
import type { RecordAttachment, RecordEvidence } from '../domain/evidence/status.js';
import { cleanRow } from '../shared/text.js';
import type { Database, WorkflowRunRow } from './schema.js';

type Db = Kysely<Database>;

/** A stored evidence record with its JSON decoded and its attachments' metadata (never their bytes). */
export interface EvidenceRecord extends RecordEvidence {
  data: Record<string, unknown>;
  attachments: RecordAttachment[];
}

export interface NewEvidenceRecord {
  requirement_id: string;
  period: string;
  status: 'success' | 'failure' | 'recorded';
  summary: string;
  source: 'manual' | 'review' | 'automated';
  recorded_by: string;
  recorded_at: string;
  links: { href: string; text?: string }[];
  data: Record<string, unknown>;
}

export interface NewAttachment {
  filename: string;
  content_type: string;
  sha256: string;
  size: number;
  content: Buffer;
}

export async function insertEvidenceRecord(db: Db, record: NewEvidenceRecord): Promise<number> {
  const { id } = await db
    .insertInto('evidence_records')
    .values(cleanRow({ ...record, links: JSON.stringify(record.links), data: JSON.stringify(record.data) }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function insertAttachment(db: Db, recordId: number, a: NewAttachment): Promise<number> {
  const { id } = await db
    .insertInto('evidence_attachments')
    .values({
      record_id: recordId,
      ...cleanRow({ filename: a.filename, content_type: a.content_type }),
      sha256: a.sha256,
      size: a.size,
      content: a.content,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

/** Records of the given periods (all when none given), oldest first, with attachment metadata. */
export async function listEvidenceRecords(
  db: Db,
  filter: { periods?: string[]; requirement_id?: string; ids?: number[] } = {},
): Promise<EvidenceRecord[]> {
  if (filter.periods?.length === 0 || filter.ids?.length === 0) return [];
  let q = db.selectFrom('evidence_records').selectAll().orderBy('recorded_at', 'asc').orderBy('id', 'asc');
  if (filter.periods) q = q.where('period', 'in', filter.periods);
  if (filter.requirement_id) q = q.where('requirement_id', '=', filter.requirement_id);
  if (filter.ids) q = q.where('id', 'in', filter.ids);
  const rows = await q.execute();
  const attachments = await listAttachmentMeta(
    db,
    rows.map((r) => Number(r.id)),
  );
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    links: JSON.parse(r.links) as { href: string; text?: string }[],
    data: JSON.parse(r.data) as Record<string, unknown>,
    attachments: attachments.get(Number(r.id)) ?? [],
  }));
}

async function listAttachmentMeta(db: Db, recordIds: number[]): Promise<Map<number, RecordAttachment[]>> {
  const byRecord = new Map<number, RecordAttachment[]>();
  if (recordIds.length === 0) return byRecord;
  const rows = await db
    .selectFrom('evidence_attachments')
    .select(['id', 'record_id', 'filename', 'content_type', 'size', 'sha256'])
    .where('record_id', 'in', recordIds)
    .orderBy('id', 'asc')
    .execute();
  for (const r of rows) {
    const list = byRecord.get(Number(r.record_id)) ?? [];
    list.push({
      id: Number(r.id),
      filename: r.filename,
      content_type: r.content_type,
      size: Number(r.size),
      sha256: r.sha256,
    });
    byRecord.set(Number(r.record_id), list);
  }
  return byRecord;
}

/** One attachment with its bytes. */
export async function getAttachment(
  db: Db,
  id: number,
): Promise<(RecordAttachment & { record_id: number; content: Buffer }) | undefined> {
  const row = await db.selectFrom('evidence_attachments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  return {
    id: Number(row.id),
    record_id: Number(row.record_id),
    filename: row.filename,
    content_type: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    content: Buffer.from(row.content),
  };
}

/**
 * Completed workflow runs whose completion lies in [start, end), oldest first. Stored times are ISO-8601 UTC,
 * so text comparison orders them; the domain re-checks the bounds exactly.
 */
export async function listRunsCompletedBetween(
  db: Db,
  filter: { start: string; end: string; repo?: string; branch?: string },
): Promise<WorkflowRunRow[]> {
  let q = db
    .selectFrom('workflow_runs')
    .selectAll()
    .where('status', '=', 'completed')
    .where('completed_at', '>=', filter.start)
    .where('completed_at', '<', filter.end)
    .orderBy('completed_at', 'asc')
    .orderBy('id', 'asc');
  // The same scoping as the release gate: the policy's branch (or runs that carry none), the policy's repo.
  const { repo, branch } = filter;
  if (repo) q = q.where((eb) => eb(eb.fn('lower', ['repo']), '=', repo.toLowerCase()));
  if (branch) q = q.where((eb) => eb.or([eb('head_branch', '=', branch), eb('head_branch', 'is', null)]));
  return q.execute();
}

/**
 * The audit log: append-only and hash-chained. Each entry's hash covers the previous entry's hash and its own
 * content, so editing an entry, or deleting one from the middle, breaks the chain at a place `verify` names.
 * Gate decisions, overrides, evidence and token changes are recorded here.
 */
import crypto from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/db.js';
import type { Database } from '../store/schema.js';
import { cleanRow } from '../shared/text.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditInput {
  actor: string;
  action: string;
  subject: string;
  data?: Record<string, unknown>;
}

export interface AuditEntry extends Required<AuditInput> {
  id: number;
  at: string;
  prev_hash: string;
  hash: string;
}

export interface AuditProblem {
  id: number;
  problem: string;
}

/** The hash of an entry: sha256 over the previous hash and a canonical JSON of the entry's content. */
export function entryHash(
  prevHash: string,
  entry: { at: string; actor: string; action: string; subject: string; data: string },
): string {
  const content = JSON.stringify([entry.at, entry.actor, entry.action, entry.subject, entry.data]);
  return crypto.createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends an entry. Pass the transaction of the change being audited so both commit together; without one,
   * the entry gets its own transaction.
   */
  async append(entry: AuditInput, trx?: Kysely<Database>): Promise<AuditEntry> {
    if (!trx) return this.store.db.transaction().execute((t) => this.append(entry, t));
    // Appends are serialized so two writers never chain onto the same previous entry.
    if (this.store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(7240421)`.execute(trx);
    const last = await trx
      .selectFrom('audit_log')
      .select('hash')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const prev_hash = last?.hash ?? GENESIS_HASH;
    // Cleaned before hashing, so the chain covers exactly what is stored (PostgreSQL text cannot hold a NUL).
    const row = cleanRow({
      at: this.clock.now().toISOString(),
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      data: JSON.stringify(entry.data ?? {}),
    });
    const hash = entryHash(prev_hash, row);
    const { id } = await trx
      .insertInto('audit_log')
      .values({ ...row, prev_hash, hash })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(id), ...row, data: entry.data ?? {}, prev_hash, hash };
  }

  /** Entries in order, newest last; `since`/`until` are ISO times (inclusive/exclusive). */
  async list(filter: { since?: string; until?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    let q = this.store.db.selectFrom('audit_log').selectAll().orderBy('id', 'asc');
    if (filter.since) q = q.where('at', '>=', filter.since);
    if (filter.until) q = q.where('at', '<', filter.until);
    if (filter.limit) q = q.limit(filter.limit);
    const rows = await q.execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  /** Walks the whole chain and names every entry that was edited or whose predecessor was removed. */
  async verify(): Promise<{ ok: boolean; checked: number; head: string; problems: AuditProblem[] }> {
    const rows = await this.store.db.selectFrom('audit_log').selectAll().orderBy('id', 'asc').execute();
    const problems: AuditProblem[] = [];
    let expectedPrev = GENESIS_HASH;
    let previousId: number | null = null;
    for (const row of rows) {
      const id = Number(row.id);
      if (row.prev_hash !== expectedPrev) {
        problems.push({
          id,
          problem:
            previousId === null
              ? `entry ${id} does not start the chain: earlier entries were deleted`
              : `entry ${id} does not follow entry ${previousId}: an entry between them was deleted, or entry ${previousId} was rewritten`,
        });
      }
      if (entryHash(row.prev_hash, row) !== row.hash) {
        problems.push({
          id,
          problem: `entry ${id} (${row.action} ${row.subject} at ${row.at}) was edited: its content no longer matches its hash`,
        });
      }
      expectedPrev = row.hash;
      previousId = id;
    }
    return { ok: problems.length === 0, checked: rows.length, head: expectedPrev, problems };
  }
}

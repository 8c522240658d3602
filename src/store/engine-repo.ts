/**
 * Engine persistence: timers and outbox notifications, claimed with leases. On PostgreSQL the claim uses
 * `FOR UPDATE SKIP LOCKED`, so several Guardia instances share due work without taking the same row; a crashed
 * instance's lease expires and another takes the row over. SQLite has one writer, so the same UPDATE is atomic.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from './db.js';
import type { Database, NotificationRow, TimerRow } from './schema.js';
import { cleanRow } from '../shared/text.js';
import { insertRows, updateWhere } from './templates.js';

type Db = Kysely<Database>;

export interface NewTimer {
  kind: 'escalation_step' | 'sla_check';
  incident_id: number;
  due_at: string;
  payload: Record<string, unknown>;
}

export async function insertTimers(db: Db, timers: NewTimer[]): Promise<void> {
  if (timers.length === 0) return;
  await insertRows(
    db,
    'timers',
    timers.map((t) => ({
      kind: t.kind,
      incident_id: t.incident_id,
      due_at: t.due_at,
      payload: JSON.stringify(t.payload),
      status: 'pending',
    })),
  );
}

export interface Lease {
  owner: string;
  now: string;
  until: string;
  limit?: number;
}

/**
 * Leases up to `limit` due rows of a work table (timers or the outbox) to `owner`; returns them. One statement:
 * pick due, unleased (or lease-expired) rows and stamp the lease. Status and limit are literals on purpose: a bound
 * value there makes SQLite re-plan the statement on every execution.
 */
async function claimDue<Row>(
  db: Db,
  dialect: Dialect,
  table: 'timers' | 'notifications',
  dueColumn: 'due_at' | 'next_attempt_at',
  lease: Lease,
): Promise<Row[]> {
  const skipLocked = dialect === 'postgres' ? sql`for update skip locked` : sql``;
  const { rows } = await sql<Row>`
    update ${sql.table(table)} set lease_owner = ${lease.owner}, lease_until = ${lease.until}
    where id in (
      select id from ${sql.table(table)}
      where status = 'pending' and ${sql.ref(dueColumn)} <= ${lease.now}
        and (lease_until is null or lease_until < ${lease.now})
      order by ${sql.ref(dueColumn)} limit ${sql.lit(lease.limit ?? 50)} ${skipLocked}
    )
    returning *`.execute(db);
  return rows;
}

/** Leases due escalation steps and SLA checks. */
export function claimDueTimers(db: Db, dialect: Dialect, lease: Lease): Promise<TimerRow[]> {
  return claimDue<TimerRow>(db, dialect, 'timers', 'due_at', lease);
}

/** Marks a leased timer finished; false when the lease was lost (another instance took it over). */
export async function finishTimer(
  db: Db,
  id: number,
  owner: string,
  status: 'done' | 'cancelled',
  outcome: string,
  now: string,
): Promise<boolean> {
  const changed = await updateWhere(
    db,
    'timers',
    { status, outcome, fired_at: now, lease_owner: null, lease_until: null },
    { id, lease_owner: owner, status: 'pending' },
  );
  return changed === 1;
}

/** Cancels every pending timer of an incident (it was resolved). */
export async function cancelTimers(
  db: Db,
  incidentId: number,
  outcome: string,
  now: string,
): Promise<number> {
  const result = await db
    .updateTable('timers')
    .set({ status: 'cancelled', outcome, fired_at: now })
    .where('incident_id', '=', incidentId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface NewNotification {
  incident_id: number;
  kind: string;
  channel: string;
  person_id: string | null;
  contact_index: number;
  payload: Record<string, unknown>;
  next_attempt_at: string;
  created_at: string;
}

export async function insertNotification(db: Db, n: NewNotification): Promise<number> {
  const { rows } = await insertRows<'notifications', { id: number }>(
    db,
    'notifications',
    [notificationRow(n)],
    'id',
  );
  return Number(rows[0]!.id);
}

/** Writes several outbox notifications with one statement. */
export async function insertNotifications(db: Db, rows: NewNotification[]): Promise<void> {
  if (rows.length === 0) return;
  await insertRows(db, 'notifications', rows.map(notificationRow));
}

/** The row of a new outbox notification, columns always in the same order (one statement text per row count). */
function notificationRow(n: NewNotification): Record<string, unknown> {
  return cleanRow({
    incident_id: n.incident_id,
    kind: n.kind,
    channel: n.channel,
    person_id: n.person_id,
    contact_index: n.contact_index,
    payload: JSON.stringify(n.payload),
    next_attempt_at: n.next_attempt_at,
    created_at: n.created_at,
    status: 'pending',
    attempts: 0,
  });
}

/** Leases outbox notifications whose next attempt is due. */
export function claimDueNotifications(db: Db, dialect: Dialect, lease: Lease): Promise<NotificationRow[]> {
  return claimDue<NotificationRow>(db, dialect, 'notifications', 'next_attempt_at', lease);
}

/** Records an attempt's outcome on a leased notification; false when the lease was lost. */
export async function recordAttempt(
  db: Db,
  id: number,
  owner: string,
  update: {
    status: 'pending' | 'delivered' | 'failed';
    attempts: number;
    next_attempt_at?: string;
    last_error: string | null;
    delivered_at?: string;
  },
): Promise<boolean> {
  const changed = await updateWhere(
    db,
    'notifications',
    cleanRow({ ...update, lease_owner: null, lease_until: null }),
    { id, lease_owner: owner },
  );
  return changed === 1;
}

/** Cancels pending pages of an incident (resolved: nobody needs waking for it any more). */
export async function cancelPendingPages(db: Db, incidentId: number, now: string): Promise<number> {
  const result = await db
    .updateTable('notifications')
    .set({ status: 'failed', last_error: `cancelled at ${now}: the incident was resolved` })
    .where('incident_id', '=', incidentId)
    .where('status', '=', 'pending')
    .where('kind', '=', 'page')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * The earliest time any pending timer or notification falls due (for the engine's next wake-up). It runs after
 * every engine cycle, so status and LIMIT are literals: bound, they make SQLite plan the statement anew each run.
 */
export async function nextDueAt(db: Db): Promise<string | null> {
  const timer = await db
    .selectFrom('timers')
    .select('due_at')
    .where('status', '=', sql.lit('pending'))
    .orderBy('due_at')
    .limit(sql.lit(1))
    .executeTakeFirst();
  const note = await db
    .selectFrom('notifications')
    .select('next_attempt_at')
    .where('status', '=', sql.lit('pending'))
    .orderBy('next_attempt_at')
    .limit(sql.lit(1))
    .executeTakeFirst();
  const candidates = [timer?.due_at, note?.next_attempt_at].filter((v): v is string => typeof v === 'string');
  return candidates.length ? candidates.sort()[0]! : null;
}

/** Roles already paged for an incident (from executed escalation steps), for breach escalation. */
export async function pagedRoles(db: Db, incidentId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('notifications')
    .select('payload')
    .where('incident_id', '=', incidentId)
    .where('kind', '=', 'page')
    .execute();
  const roles = new Set<string>();
  for (const row of rows) {
    const via = (JSON.parse(row.payload) as { via?: string }).via;
    if (via) roles.add(via);
  }
  return [...roles];
}

/**
 * Engine persistence: timers and outbox notifications, claimed with leases. On PostgreSQL the claim uses
 * `FOR UPDATE SKIP LOCKED`, so several Guardia instances share due work without taking the same row; a crashed
 * instance's lease expires and another takes the row over. SQLite has one writer, so the same UPDATE is atomic.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from './db.js';
import type { Database, NotificationRow, TimerRow } from './schema.js';
import { cleanRow } from '../shared/text.js';

type Db = Kysely<Database>;

export interface NewTimer {
  kind: 'escalation_step' | 'sla_check';
  incident_id: number;
  due_at: string;
  payload: Record<string, unknown>;
}

export async function insertTimers(db: Db, timers: NewTimer[]): Promise<void> {
  if (timers.length === 0) return;
  await db
    .insertInto('timers')
    .values(timers.map((t) => ({ ...t, payload: JSON.stringify(t.payload), status: 'pending' })))
    .execute();
}

/** Leases up to `limit` due timers to `owner` until `leaseUntil`; returns them. */
export async function claimDueTimers(
  db: Db,
  dialect: Dialect,
  owner: string,
  now: string,
  leaseUntil: string,
  limit = 50,
): Promise<TimerRow[]> {
  let due = db
    .selectFrom('timers')
    .select('id')
    .where('status', '=', 'pending')
    .where('due_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('due_at')
    .limit(limit);
  if (dialect === 'postgres') due = due.forUpdate().skipLocked();
  return db
    .updateTable('timers')
    .set({ lease_owner: owner, lease_until: leaseUntil })
    .where('id', 'in', due)
    .returningAll()
    .execute();
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
  const result = await db
    .updateTable('timers')
    .set({ status, outcome, fired_at: now, lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
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
  const { id } = await db
    .insertInto('notifications')
    .values(cleanRow({ ...n, payload: JSON.stringify(n.payload), status: 'pending', attempts: 0 }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

export async function claimDueNotifications(
  db: Db,
  dialect: Dialect,
  owner: string,
  now: string,
  leaseUntil: string,
  limit = 50,
): Promise<NotificationRow[]> {
  let due = db
    .selectFrom('notifications')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(limit);
  if (dialect === 'postgres') due = due.forUpdate().skipLocked();
  return db
    .updateTable('notifications')
    .set({ lease_owner: owner, lease_until: leaseUntil })
    .where('id', 'in', due)
    .returningAll()
    .execute();
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
  const result = await db
    .updateTable('notifications')
    .set(cleanRow({ ...update, lease_owner: null, lease_until: null }))
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
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

/** The earliest time any pending timer or notification falls due (for the engine's next wake-up). */
export async function nextDueAt(db: Db): Promise<string | null> {
  const timer = await db
    .selectFrom('timers')
    .select('due_at')
    .where('status', '=', 'pending')
    .orderBy('due_at')
    .limit(1)
    .executeTakeFirst();
  const note = await db
    .selectFrom('notifications')
    .select('next_attempt_at')
    .where('status', '=', 'pending')
    .orderBy('next_attempt_at')
    .limit(1)
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

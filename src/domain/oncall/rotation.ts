/**
 * Who holds an on-call role at an instant: the role's rotation (daily or weekly hand-offs at a local wall-clock
 * time in the policy's time zone), or all its members when it has none, with overrides applied on top.
 * Pure functions of (policy, overrides, at); hand-off instants come from Temporal so DST changes move them with
 * the local clock ("mon 09:00" is 09:00 in Madrid in winter and in summer), never by a hand-rolled offset.
 */
import { Temporal } from 'temporal-polyfill';
import { HANDOFF_WEEKDAYS, parseHandoff, type RotationPolicy } from '../policy/oncall-schema.js';
import type { Policy } from '../policy/schema.js';

/** The parts of the policy on-call answers depend on. */
export type OnCallPolicy = Pick<Policy, 'roles' | 'rotations' | 'calendar'>;

/** A temporary holder of a role, as stored (timestamps ISO-8601 UTC). */
export interface OverrideLike {
  id: number;
  role: string;
  person_id: string;
  starts_at: string;
  ends_at: string;
  created_at: string;
  cancelled_at?: string | null;
}

/** One shift of a rotation. */
export interface Shift {
  /** Shift number counted from the rotation's first hand-off (0 = first); -1 before the rotation starts. */
  index: number;
  /** The member on shift; null before the rotation's first hand-off. */
  member: string | null;
  /** When this shift began (null before the first hand-off). */
  starts_at: Date | null;
  /** The next hand-off. */
  ends_at: Date;
}

export type HoldingSource = 'rotation' | 'members' | 'override';

/** Who holds one role at an instant, and until when that answer stands. */
export interface RoleHolding {
  role: string;
  /** Person ids; empty when nobody holds the role (a role with no members and no running rotation). */
  people: string[];
  source: HoldingSource;
  /** The next instant at which the answer changes (hand-off, override start or end); null if none is known. */
  until: string | null;
  /** The override in force, when source is 'override'. */
  override_id?: number;
}

/**
 * A local wall-clock time on a date as an instant. 'compatible' is the decided rule (as for business time): a
 * hand-off in the hour skipped by spring-forward happens at the first instant after the gap, and one in the hour
 * repeated by fall-back happens at its first occurrence.
 */
function atLocal(date: Temporal.PlainDate, hour: number, minute: number, timeZone: string): Date {
  const zdt = date
    .toPlainDateTime({ hour, minute })
    .toZonedDateTime(timeZone, { disambiguation: 'compatible' });
  return new Date(zdt.epochMilliseconds);
}

/** The local date of the first hand-off: `start` itself (daily), or the first hand-off weekday on or after it. */
function firstHandoffDate(rotation: RotationPolicy, weekday: string | undefined): Temporal.PlainDate {
  const start = Temporal.PlainDate.from(rotation.start);
  if (rotation.type === 'daily' || weekday === undefined) return start;
  const wanted = HANDOFF_WEEKDAYS.indexOf(weekday as (typeof HANDOFF_WEEKDAYS)[number]) + 1;
  return start.add({ days: (wanted - start.dayOfWeek + 7) % 7 });
}

interface RotationClock {
  /** Local date of the first hand-off. */
  first: Temporal.PlainDate;
  /** Days between hand-offs. */
  period: 1 | 7;
  /** Shift k starts at handoff(k). */
  handoff(k: number): Date;
}

function rotationClock(rotation: RotationPolicy, timeZone: string): RotationClock {
  const parsed = parseHandoff(rotation.type, rotation.handoff);
  // The policy schema refuses such a rotation first; this guards direct callers.
  if ('error' in parsed) throw new Error(`rotation for role "${rotation.role}": ${parsed.error}`);
  const first = firstHandoffDate(rotation, parsed.weekday);
  const period = rotation.type === 'daily' ? 1 : 7;
  return {
    first,
    period,
    handoff: (k) => atLocal(first.add({ days: k * period }), parsed.hour, parsed.minute, timeZone),
  };
}

/**
 * The rotation's hand-off instants as a function of the shift number: shift k starts at `handoff(k)`.
 * @throws Error when the hand-off text is invalid (the policy schema refuses such a policy first).
 */
export function handoffs(rotation: RotationPolicy, timeZone: string): (k: number) => Date {
  return rotationClock(rotation, timeZone).handoff;
}

/**
 * The shift of a rotation at `at`. A hand-off instant belongs to the incoming member (shifts are half-open:
 * [hand-off, next hand-off)). Before the first hand-off nobody from the rotation is on shift (index -1).
 */
export function shiftAt(rotation: RotationPolicy, timeZone: string, at: Date): Shift {
  const clock = rotationClock(rotation, timeZone);
  const atMs = at.getTime();
  const localDate = Temporal.Instant.fromEpochMilliseconds(atMs).toZonedDateTimeISO(timeZone).toPlainDate();
  // The local date gives the shift, except on a hand-off day before the hand-off time (still the previous
  // shift); comparing instants settles it whatever DST did that day.
  let k = Math.floor(clock.first.until(localDate, { largestUnit: 'days' }).days / clock.period);
  while (clock.handoff(k).getTime() > atMs) k -= 1;
  while (clock.handoff(k + 1).getTime() <= atMs) k += 1;
  if (k < 0) return { index: -1, member: null, starts_at: null, ends_at: clock.handoff(0) };
  const member = rotation.members[k % rotation.members.length] ?? null;
  return { index: k, member, starts_at: clock.handoff(k), ends_at: clock.handoff(k + 1) };
}

function isActive(o: OverrideLike, atMs: number): boolean {
  return !o.cancelled_at && Date.parse(o.starts_at) <= atMs && atMs < Date.parse(o.ends_at);
}

/** Newest first: later created_at, then higher id (ids grow with creation, so they break ties). */
function newerFirst(a: OverrideLike, b: OverrideLike): number {
  return Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id;
}

function earliest(...times: (number | null)[]): string | null {
  const known = times.filter((t): t is number => t !== null);
  return known.length === 0 ? null : new Date(Math.min(...known)).toISOString();
}

/**
 * Who holds `roleId` at `at`. An override in force wins over the rotation and the members; when overrides
 * overlap, the newest wins. A role with a rotation that has not started yet falls back to its members, so a
 * rotation planned for next month does not leave the role empty today.
 * @throws Error for a role that is not in the policy.
 */
export function holdingAt(
  policy: OnCallPolicy,
  roleId: string,
  overrides: readonly OverrideLike[],
  at: Date,
): RoleHolding {
  const role = policy.roles.find((r) => r.id === roleId);
  if (!role) throw new Error(`unknown role "${roleId}"`);
  const atMs = at.getTime();
  const mine = overrides.filter((o) => o.role === roleId && !o.cancelled_at);

  const winner = mine.filter((o) => isActive(o, atMs)).sort(newerFirst)[0];
  if (winner) {
    // The answer changes when the winner ends, or when a newer override starts before that.
    const newerStarts = mine
      .filter((o) => newerFirst(o, winner) < 0 && Date.parse(o.starts_at) > atMs)
      .map((o) => Date.parse(o.starts_at));
    return {
      role: roleId,
      people: [winner.person_id],
      source: 'override',
      until: earliest(Date.parse(winner.ends_at), ...newerStarts),
      override_id: winner.id,
    };
  }

  // Any override starting later takes over from the rotation or the members at its start.
  const nextOverride = mine
    .map((o) => Date.parse(o.starts_at))
    .filter((t) => t > atMs)
    .reduce<number | null>((min, t) => (min === null || t < min ? t : min), null);

  const rotation = policy.rotations.find((r) => r.role === roleId);
  if (rotation) {
    const shift = shiftAt(rotation, policy.calendar.timezone, at);
    if (shift.member !== null)
      return {
        role: roleId,
        people: [shift.member],
        source: 'rotation',
        until: earliest(shift.ends_at.getTime(), nextOverride),
      };
    return {
      role: roleId,
      people: [...role.members],
      source: 'members',
      until: earliest(shift.ends_at.getTime(), nextOverride),
    };
  }
  return { role: roleId, people: [...role.members], source: 'members', until: earliest(nextOverride) };
}

/** Who holds every role of the policy at `at`, in the policy's role order. */
export function holdingsAt(
  policy: OnCallPolicy,
  overrides: readonly OverrideLike[],
  at: Date,
): RoleHolding[] {
  return policy.roles.map((role) => holdingAt(policy, role.id, overrides, at));
}

/** One person to page, and why: the role through which they were reached, or 'direct' when named. */
export interface ResolvedTarget {
  person_id: string;
  via: string;
  source: HoldingSource | 'direct';
}

/**
 * Turns an escalation step's `notify` ids into people, in order and without repeats (someone holding two of the
 * named roles is paged once, for the first). An id that is a role is read as the role even when a person has the
 * same id (the default policy has both a role and a person "cto"), so rotations and overrides apply to it.
 * `unresolved` lists ids that are neither a role nor a person, and roles nobody holds at `at`: both mean that
 * nobody would be paged for that id, which must be visible rather than silent.
 */
export function resolveTargetIds(
  policy: OnCallPolicy & Pick<Policy, 'people'>,
  overrides: readonly OverrideLike[],
  ids: readonly string[],
  at: Date,
): { targets: ResolvedTarget[]; unresolved: string[] } {
  const targets: ResolvedTarget[] = [];
  const unresolved: string[] = [];
  const seen = new Set<string>();
  const add = (person_id: string, via: string, source: ResolvedTarget['source']): void => {
    if (seen.has(person_id)) return;
    seen.add(person_id);
    targets.push({ person_id, via, source });
  };
  for (const id of ids) {
    if (policy.roles.some((r) => r.id === id)) {
      const holding = holdingAt(policy, id, overrides, at);
      if (holding.people.length === 0) unresolved.push(id);
      for (const person of holding.people) add(person, id, holding.source);
    } else if (policy.people.some((p) => p.id === id)) add(id, 'direct', 'direct');
    else unresolved.push(id);
  }
  return { targets, unresolved };
}

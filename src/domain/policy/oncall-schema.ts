/**
 * Policy section for on-call rotations: who holds a role, in turn, day by day or week by week. A role without a
 * rotation is held by all of its `members` at once. Hand-offs happen at a local wall-clock time in the policy
 * calendar's time zone, so "mon 09:00" stays 09:00 across DST changes.
 */
import { z } from 'zod';
import { id } from './schema-parts.js';
import { showValue } from '../../shared/validate.js';

export const ROTATION_TYPES = ['daily', 'weekly'] as const;
export type RotationType = (typeof ROTATION_TYPES)[number];

export const HANDOFF_WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type HandoffWeekday = (typeof HANDOFF_WEEKDAYS)[number];

const DAILY_HANDOFF = /^([01]\d|2[0-3]):([0-5]\d)$/;
const WEEKLY_HANDOFF = /^(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):([0-5]\d)$/;

/** A hand-off parsed: the weekday (weekly rotations only) and the local time. */
export interface Handoff {
  weekday?: HandoffWeekday;
  hour: number;
  minute: number;
}

/** Parses a hand-off as the policy writes it ("09:00" daily, "mon 09:00" weekly); an error message otherwise. */
export function parseHandoff(type: RotationType, text: string): Handoff | { error: string } {
  if (type === 'daily') {
    const m = DAILY_HANDOFF.exec(text);
    if (!m)
      return { error: `a daily rotation hands off at a 24-hour time "HH:MM", e.g. "09:00"; got "${text}"` };
    return { hour: Number(m[1]), minute: Number(m[2]) };
  }
  const m = WEEKLY_HANDOFF.exec(text);
  if (!m)
    return {
      error: `a weekly rotation hands off at a weekday and time like "mon 09:00" (days: ${HANDOFF_WEEKDAYS.join(', ')}); got "${text}"`,
    };
  return { weekday: m[1] as HandoffWeekday, hour: Number(m[2]), minute: Number(m[3]) };
}

export const rotationSchema = z
  .strictObject({
    /** The role this rotation fills (one rotation per role). */
    role: id,
    type: z.enum(ROTATION_TYPES, {
      error: (issue) =>
        `unknown rotation type ${showValue(issue.input)}; expected one of ${ROTATION_TYPES.join(', ')}`,
    }),
    /** "09:00" for daily rotations, "mon 09:00" for weekly ones; local time in the calendar's time zone. */
    handoff: z.string(),
    /** The date (calendar time zone) from which the order counts: the first hand-off at or after it is shift 1. */
    start: z.iso.date({ error: 'expected a date "YYYY-MM-DD"' }),
    /** People in rotation order; after the last, the first again. */
    members: z.array(id).min(1, 'a rotation needs at least one member'),
  })
  .superRefine((rotation, ctx) => {
    const parsed = parseHandoff(rotation.type, rotation.handoff);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', path: ['handoff'], message: parsed.error });
  });
export type RotationPolicy = z.output<typeof rotationSchema>;

export const rotationsSchema = z.array(rotationSchema).default([]);

/**
 * Cross-references checked once the whole policy is parsed: a rotation names a known role (at most one rotation
 * per role) and known people. Called from the policy's superRefine.
 */
export function checkRotations(
  policy: { people: { id: string }[]; roles: { id: string }[]; rotations: RotationPolicy[] },
  ctx: z.RefinementCtx,
): void {
  const people = new Set(policy.people.map((p) => p.id));
  const roles = new Set(policy.roles.map((r) => r.id));
  const seen = new Set<string>();
  policy.rotations.forEach((rotation, r) => {
    if (!roles.has(rotation.role))
      ctx.addIssue({
        code: 'custom',
        path: ['rotations', r, 'role'],
        message: `unknown role "${rotation.role}"; roles: ${[...roles].join(', ')}`,
      });
    else if (seen.has(rotation.role))
      ctx.addIssue({
        code: 'custom',
        path: ['rotations', r, 'role'],
        message: `role "${rotation.role}" already has a rotation; put everyone in one rotation's members`,
      });
    seen.add(rotation.role);
    rotation.members.forEach((member, m) => {
      if (!people.has(member))
        ctx.addIssue({
          code: 'custom',
          path: ['rotations', r, 'members', m],
          message: `unknown person "${member}"; add it under "people" or use one of: ${[...people].join(', ') || '(none)'}`,
        });
    });
  });
}

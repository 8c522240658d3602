/**
 * On-call overrides: someone holds a role for a while in place of its rotation or members (a swap, a sick day,
 * cover over a holiday). Validation and state are pure functions of (input, policy, now).
 */
import type { Policy } from '../policy/schema.js';
import { invalidInput, type FieldIssue } from '../../shared/errors.js';

/** The longest override: longer cover belongs in the rotation itself. */
export const MAX_OVERRIDE_MS = 31 * 86_400_000;

export interface OnCallOverride {
  id: number;
  role: string;
  person_id: string;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_by: string;
  created_at: string;
  cancelled_at: string | null;
  cancelled_by: string | null;
}

export type OverrideState = 'upcoming' | 'active' | 'ended' | 'cancelled';

/** Whether an override is cancelled, in force now, still to come, or over. */
export function overrideState(
  o: Pick<OnCallOverride, 'starts_at' | 'ends_at' | 'cancelled_at'>,
  now: Date,
): OverrideState {
  if (o.cancelled_at) return 'cancelled';
  const t = now.getTime();
  if (t >= Date.parse(o.ends_at)) return 'ended';
  return t < Date.parse(o.starts_at) ? 'upcoming' : 'active';
}

export interface OverrideInput {
  role: string;
  person_id: string;
  /** Default: now. */
  starts_at?: Date;
  ends_at: Date;
  reason: string;
}

/**
 * Checks an override against the policy and returns what will be stored. Every problem is reported at once,
 * each naming its field. A start in the past is recorded as now: an override changes who is paged from now on,
 * and must not rewrite who was on call before it existed.
 * @throws GuardiaError invalid_input
 */
export function validateOverride(
  input: OverrideInput,
  policy: Pick<Policy, 'roles' | 'people'>,
  now: Date,
): { role: string; person_id: string; starts_at: Date; ends_at: Date; reason: string } {
  const issues: FieldIssue[] = [];
  if (!policy.roles.some((r) => r.id === input.role))
    issues.push({
      field: 'role',
      message: `unknown role "${input.role}"; roles: ${policy.roles.map((r) => r.id).join(', ')}`,
      expected: 'a role id of the policy',
      received: `"${input.role}"`,
    });
  if (!policy.people.some((p) => p.id === input.person_id))
    issues.push({
      field: 'person_id',
      message: `unknown person "${input.person_id}"; people: ${policy.people.map((p) => p.id).join(', ') || '(none)'}`,
      expected: 'a person id of the policy',
      received: `"${input.person_id}"`,
    });
  const reason = input.reason.trim();
  if (reason === '')
    issues.push({ field: 'reason', message: 'a reason is required (it goes to the audit log)' });
  const requested = input.starts_at ?? now;
  const starts_at = requested.getTime() < now.getTime() ? now : requested;
  const ends = input.ends_at.getTime();
  if (ends <= starts_at.getTime())
    issues.push({
      field: 'ends_at',
      message:
        ends <= now.getTime()
          ? `must be in the future (now is ${now.toISOString()})`
          : `must be after starts_at (${starts_at.toISOString()})`,
      received: input.ends_at.toISOString(),
    });
  else if (ends - starts_at.getTime() > MAX_OVERRIDE_MS)
    issues.push({
      field: 'ends_at',
      message: `an override lasts at most 31 days (from ${starts_at.toISOString()}); change the rotation for longer cover`,
      received: input.ends_at.toISOString(),
    });
  if (issues.length > 0) throw invalidInput(issues);
  return { role: input.role, person_id: input.person_id, starts_at, ends_at: input.ends_at, reason };
}

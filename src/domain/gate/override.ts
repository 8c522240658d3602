/**
 * Break-glass overrides of the release gate (DESIGN.md §2): a reason, an approver who is not the requester, and
 * an expiry no further than `gate.override.max_duration` (24 h by default). Pure: validation and "which override
 * applies at `now`"; the gate service stores them and records them in the audit log.
 */
import { invalidInput, type FieldIssue } from '../../shared/errors.js';
import { parseDuration } from '../policy/duration.js';
import type { GatePolicy } from '../policy/evidence-schema.js';
import type { BusinessCalendar } from '../policy/schema.js';
import { addBusinessDays } from '../sla/business-time.js';

export interface GateOverride {
  id: number;
  reason: string;
  requested_by: string;
  approved_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

export interface OverrideRequest {
  reason: string;
  requested_by: string;
  approved_by: string;
  expires_at: Date;
}

/** The override that applies at `now` (not revoked, not expired, already created); the longest-lived wins. */
export function activeOverride(overrides: GateOverride[], now: Date): GateOverride | undefined {
  const t = now.getTime();
  return overrides
    .filter((o) => o.revoked_at === null && Date.parse(o.created_at) <= t && Date.parse(o.expires_at) > t)
    .sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at) || b.id - a.id)[0];
}

/** Is the override in force at `now`? */
export function overrideState(o: GateOverride, now: Date): 'active' | 'expired' | 'revoked' {
  if (o.revoked_at !== null) return 'revoked';
  return Date.parse(o.expires_at) > now.getTime() ? 'active' : 'expired';
}

/**
 * One person, however the actor was written: trimmed, any case, and without the channel prefix Guardia puts on
 * actors ("token:alice", "cli:alice" and "Alice" are the same person), so nobody approves their own override
 * by switching from the API to the CLI.
 */
export function personKey(actor: string): string {
  return actor
    .trim()
    .toLowerCase()
    .replace(/^(token|cli|user):/, '')
    .trim();
}

/**
 * Checks an override request against the policy at `now`; throws `invalid_input` naming every problem (reason
 * missing, approver = requester, expiry in the past or beyond the maximum duration). Returns it normalized.
 */
export function validateOverride(
  input: { reason?: string; requested_by: string; approved_by?: string; expires_at?: Date },
  policy: { gate: GatePolicy; calendar: BusinessCalendar },
  now: Date,
): OverrideRequest {
  const issues: FieldIssue[] = [];
  const reason = input.reason?.trim() ?? '';
  const approver = input.approved_by?.trim() ?? '';
  if (reason === '')
    issues.push({
      field: 'reason',
      message: 'a reason is required',
      expected: 'why the release must go now',
    });
  if (approver === '')
    issues.push({
      field: 'approver',
      message: 'an approver is required',
      expected: 'the name of a second person who approves the override',
    });
  else if (personKey(approver) === personKey(input.requested_by))
    issues.push({
      field: 'approver',
      message: `the approver must be someone other than the requester (${input.requested_by})`,
      expected: 'a second person',
      received: `string "${approver}"`,
    });
  const max = policy.gate.override.max_duration;
  const latest =
    max.kind === 'wall' ? new Date(now.getTime() + max.ms) : addBusinessDays(now, max.days, policy.calendar);
  const expires = input.expires_at;
  if (!expires || Number.isNaN(expires.getTime()))
    issues.push({
      field: 'expires_at',
      message: 'an expiry is required',
      expected: `at most ${max.text} ahead`,
    });
  else if (expires.getTime() <= now.getTime())
    issues.push({
      field: 'expires_at',
      message: `the expiry must be in the future (now is ${now.toISOString()})`,
      received: expires.toISOString(),
    });
  else if (expires.getTime() > latest.getTime())
    issues.push({
      field: 'expires_at',
      message: `an override lasts at most ${max.text} (gate.override.max_duration): expire it by ${latest.toISOString()}`,
      received: expires.toISOString(),
    });
  if (issues.length > 0) throw invalidInput(issues);
  return { reason, requested_by: input.requested_by.trim(), approved_by: approver, expires_at: expires! };
}

/**
 * An expiry as people give it: a wall-clock duration from now ("4h", "30m") or an ISO-8601 time with an offset.
 * Throws `invalid_input` naming `field`.
 */
export function parseExpiry(text: string, now: Date, field = 'expires'): Date {
  const duration = parseDuration(text);
  if (!('error' in duration) && duration.kind === 'wall') return new Date(now.getTime() + duration.ms);
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim())) {
    const at = new Date(text.trim());
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw invalidInput([
    {
      field,
      message:
        'expected a duration from now like "4h" or "30m", or an ISO-8601 time like "2026-11-28T18:00:00Z"',
      received: `string "${text}"`,
    },
  ]);
}

/**
 * Incidents: states, transitions and SLA clocks as pure functions of (incident, action, now).
 * States move forward only: triggered → acknowledged → mitigated → resolved. Skipping forward records the
 * skipped steps at the same moment, marked as implied; the only way back is `reopen` (DESIGN.md §2).
 */
import type { Severity } from '../policy/schema.js';
import { clockState, type ClockState } from '../sla/clocks.js';
import { GuardiaError } from '../../shared/errors.js';
import { isoString } from '../../shared/iso-time.js';

export const INCIDENT_STATUSES = ['triggered', 'acknowledged', 'mitigated', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export type IncidentAction = 'acknowledge' | 'mitigate' | 'resolve';

/** The part of an incident that transitions read and write. */
export interface IncidentState {
  id: number;
  status: IncidentStatus;
  severity: Severity;
  started_at: string;
  ack_due_at: string;
  mitigate_due_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  ack_implied: boolean;
  mitigated_at: string | null;
  mitigated_by: string | null;
  mitigation_implied: boolean;
  resolved_at: string | null;
  resolved_by: string | null;
}

/** A timeline entry to append; the service adds incident id and persists it. */
export interface TimelineEntry {
  at: string;
  actor: string;
  kind: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface TransitionResult {
  changes: Partial<IncidentState>;
  timeline: TimelineEntry[];
}

const ORDER: Record<IncidentStatus, number> = { triggered: 0, acknowledged: 1, mitigated: 2, resolved: 3 };
const TARGET: Record<IncidentAction, IncidentStatus> = {
  acknowledge: 'acknowledged',
  mitigate: 'mitigated',
  resolve: 'resolved',
};

/**
 * Moves an incident forward. Throws `invalid_transition` when the incident is already at or past the target
 * state, naming who got it there and when, so a second click says "already acknowledged" instead of failing vaguely.
 */
export function transition(
  incident: IncidentState,
  action: IncidentAction,
  now: Date,
  actor: string,
  note?: string,
): TransitionResult {
  const target = TARGET[action];
  if (ORDER[incident.status] >= ORDER[target]) {
    throw new GuardiaError('invalid_transition', alreadyMessage(incident, target), {
      incident_id: incident.id,
      status: incident.status,
      requested: action,
    });
  }
  const at = isoString(now);
  const changes: Partial<IncidentState> = { status: target };
  const timeline: TimelineEntry[] = [];
  if (incident.acknowledged_at === null) {
    const implied = target !== 'acknowledged';
    Object.assign(changes, { acknowledged_at: at, acknowledged_by: actor, ack_implied: implied });
    if (implied)
      timeline.push({
        at,
        actor,
        kind: 'acknowledged',
        message: `Acknowledged (implied by ${action})`,
        data: { implied: true },
      });
  }
  if (ORDER[target] >= ORDER.mitigated && incident.mitigated_at === null) {
    const implied = target !== 'mitigated';
    Object.assign(changes, { mitigated_at: at, mitigated_by: actor, mitigation_implied: implied });
    if (implied)
      timeline.push({
        at,
        actor,
        kind: 'mitigated',
        message: `Mitigated (implied by ${action})`,
        data: { implied: true },
      });
  }
  if (target === 'resolved') Object.assign(changes, { resolved_at: at, resolved_by: actor });
  timeline.push({
    at,
    actor,
    kind: target,
    message: `${capitalize(target)} by ${actor}${note ? `: ${note}` : ''}`,
    ...(note ? { data: { note } } : {}),
  });
  return { changes, timeline };
}

/**
 * Reopens a resolved incident that fired again within the reopen window. The SLA clocks restart from the
 * reopening (new due dates are computed by the caller); the timeline keeps the earlier acknowledgement.
 */
export function reopen(
  incident: IncidentState,
  now: Date,
  actor: string,
  due: { ackDueAt: Date; mitigateDueAt: Date },
  reason: string,
): TransitionResult {
  if (incident.status !== 'resolved') {
    throw new GuardiaError(
      'invalid_transition',
      `incident ${incident.id} is ${incident.status}, not resolved: nothing to reopen`,
    );
  }
  const at = isoString(now);
  return {
    changes: {
      status: 'triggered',
      ack_due_at: isoString(due.ackDueAt),
      mitigate_due_at: isoString(due.mitigateDueAt),
      acknowledged_at: null,
      acknowledged_by: null,
      ack_implied: false,
      mitigated_at: null,
      mitigated_by: null,
      mitigation_implied: false,
      resolved_at: null,
      resolved_by: null,
    },
    timeline: [
      {
        at,
        actor,
        kind: 'reopened',
        message: `Reopened: ${reason}`,
        data: { previous_resolved_at: incident.resolved_at },
      },
    ],
  };
}

export interface SlaClocks {
  ack: { due_at: string; state: ClockState; done_at: string | null };
  mitigate: { due_at: string; state: ClockState; done_at: string | null };
}

/** The incident's two SLA clocks as of `now`. */
export function slaClocks(incident: IncidentState, now: Date): SlaClocks {
  const make = (due: string, done: string | null) => ({
    due_at: due,
    done_at: done,
    state: clockState(new Date(due), done === null ? null : new Date(done), now),
  });
  return {
    ack: make(incident.ack_due_at, incident.acknowledged_at),
    mitigate: make(incident.mitigate_due_at, incident.mitigated_at),
  };
}

function alreadyMessage(incident: IncidentState, target: IncidentStatus): string {
  if (incident.status === target) {
    const by = {
      acknowledged: incident.acknowledged_by,
      mitigated: incident.mitigated_by,
      resolved: incident.resolved_by,
      triggered: null,
    }[target];
    const at = {
      acknowledged: incident.acknowledged_at,
      mitigated: incident.mitigated_at,
      resolved: incident.resolved_at,
      triggered: null,
    }[target];
    return `incident ${incident.id} is already ${target}${by ? ` by ${by}` : ''}${at ? ` at ${at}` : ''}`;
  }
  return `incident ${incident.id} is already ${incident.status}, past ${target}`;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

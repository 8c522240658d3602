/**
 * The escalation plan of an incident: the policy's steps for its severity turned into absolute due times.
 * The plan is computed once, when the incident starts, and frozen onto it (DESIGN.md §2): editing the policy
 * mid-incident does not rewrite a running incident.
 */
import { wallMs } from '../policy/duration.js';
import type { EscalationStep, Policy, Severity } from '../policy/schema.js';
import { isoString } from '../../shared/iso-time.js';

export interface PlannedStep {
  index: number;
  due_at: string;
  /** Role or person ids. */
  notify: string[];
  /** The step is skipped when the incident has reached this state by its due time. */
  unless?: 'acknowledged' | 'mitigated';
  /** How the policy said it ("after 30m", "at the ack target"), for people reading the plan. */
  rule: string;
}

export interface PlanInput {
  severity: Severity;
  started_at: string;
  ack_due_at: string;
  mitigate_due_at: string;
}

/** Computes the plan for an incident from the policy's escalation steps for its severity. */
export function planEscalation(policy: Policy, incident: PlanInput): PlannedStep[] {
  return policy.escalation[incident.severity].map((step, index) => ({
    index,
    due_at: dueAt(step, incident),
    notify: [...step.notify],
    ...(step.unless ? { unless: step.unless } : {}),
    rule: describeAfter(step),
  }));
}

function dueAt(step: EscalationStep, incident: PlanInput): string {
  if (step.after === 'ack_target') return incident.ack_due_at;
  if (step.after === 'mitigate_target') return incident.mitigate_due_at;
  // Business-day offsets make no sense for paging; a wall-clock duration is required (checked by the policy).
  return isoString(new Date(new Date(incident.started_at).getTime() + wallMs(step.after)));
}

function describeAfter(step: EscalationStep): string {
  if (step.after === 'ack_target') return 'at the acknowledgement target';
  if (step.after === 'mitigate_target') return 'at the mitigation target';
  return step.after.kind === 'wall' && step.after.ms === 0 ? 'at once' : `after ${step.after.text}`;
}

/** Whether a step should fire given the incident's state now (pure; the engine asks this when a step falls due). */
export function stepStillNeeded(
  step: Pick<PlannedStep, 'unless'>,
  incident: { status: string; acknowledged_at: string | null; mitigated_at: string | null },
): { fire: boolean; reason?: string } {
  if (incident.status === 'resolved') return { fire: false, reason: 'the incident is resolved' };
  if (step.unless === 'acknowledged' && incident.acknowledged_at !== null)
    return { fire: false, reason: 'the incident was acknowledged' };
  if (step.unless === 'mitigated' && incident.mitigated_at !== null)
    return { fire: false, reason: 'the incident was mitigated' };
  return { fire: true };
}

/**
 * SLA clocks: when an incident's acknowledgement and mitigation are due, and whether each was met.
 * Pure functions; `now` is a parameter (DESIGN.md §3 principle 2) so tests and scenarios control time.
 */
import type { PolicyDuration } from '../policy/duration.js';
import type { BusinessCalendar } from '../policy/schema.js';
import { addBusinessDays } from './business-time.js';

/** The state of one SLA clock: finished in time, late (or overdue), or still running within its target. */
export type ClockState = 'met' | 'breached' | 'pending';

/**
 * Adds a policy duration to `start`. Wall-clock durations are elapsed milliseconds (a sev1 page does not wait
 * for office hours); business durations are counted on the calendar.
 */
export function addDuration(start: Date, duration: PolicyDuration, calendar: BusinessCalendar): Date {
  return duration.kind === 'wall'
    ? new Date(start.getTime() + duration.ms)
    : addBusinessDays(start, duration.days, calendar);
}

/**
 * Due dates for a severity's targets. Both clocks run from the incident's start, not one after the other, so a
 * slow acknowledgement does not extend the mitigation deadline.
 */
export function computeDueDates(
  startedAt: Date,
  target: { ack: PolicyDuration; mitigate: PolicyDuration },
  calendar: BusinessCalendar,
): { ackDueAt: Date; mitigateDueAt: Date } {
  return {
    ackDueAt: addDuration(startedAt, target.ack, calendar),
    mitigateDueAt: addDuration(startedAt, target.mitigate, calendar),
  };
}

/**
 * The state of a clock. Met if done at or before the due instant (the deadline itself is still on time);
 * breached if done after it, or not done and `now` is past it; otherwise pending. A finished clock ignores
 * `now`, so re-evaluating it later never changes the verdict.
 */
export function clockState(dueAt: Date, doneAt: Date | null, now: Date): ClockState {
  const due = dueAt.getTime();
  if (doneAt !== null) return doneAt.getTime() <= due ? 'met' : 'breached';
  return now.getTime() > due ? 'breached' : 'pending';
}

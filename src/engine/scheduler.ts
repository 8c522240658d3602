/**
 * What an incident change schedules, written in the SAME transaction as the change (the outbox rule): the frozen
 * escalation plan and its step timers, the two SLA-check timers, and messages to the route's team channels.
 * After the commit, `committed()` wakes the engine when there is new work, so it starts at once, not on a poll.
 */
import type { Kysely } from 'kysely';
import type { IncidentAction, TimelineEntry } from '../domain/incidents/incident.js';
import { planEscalation, type PlanInput, type PlannedStep } from '../domain/escalation/plan.js';
import type { Policy } from '../domain/policy/schema.js';
import type { Database } from '../store/schema.js';
import { updateWhere } from '../store/templates.js';
import { appendTimeline, type Incident } from '../store/incidents-repo.js';
import {
  cancelPendingPages,
  cancelTimers,
  insertNotification,
  insertNotifications,
  insertTimers,
  type NewTimer,
} from '../store/engine-repo.js';
import { isoString } from '../shared/iso-time.js';

/** An incident about to be inserted: what its escalation plan depends on. */
export type IncidentDraft = PlanInput & { route: string | null };

/**
 * An incident's escalation plan and the timeline entry recording it. For a new incident it is decided before the
 * insert, so that the plan goes into that insert and its entry joins the "opened" one: an alert storm opens an
 * incident per alert, and each statement saved there is saved thousands of times a second.
 */
export interface EscalationPlanning {
  /** The frozen plan, or null when the incident's route pages nobody. */
  plan: PlannedStep[] | null;
  timeline: TimelineEntry[];
}

/** Called by the incident and ingest services inside their transactions. */
export interface IncidentHooks {
  /** Pure: the plan of an incident (one about to be inserted, or one reopening). */
  planFor(draft: IncidentDraft, now: Date): EscalationPlanning;
  /** After the insert of an incident carrying `plan`: its timers and messages. */
  opened(db: Kysely<Database>, incident: Incident, now: Date, plan: PlannedStep[] | null): Promise<void>;
  reopened(db: Kysely<Database>, incident: Incident, now: Date): Promise<void>;
  attached(db: Kysely<Database>, incident: Incident, now: Date): Promise<void>;
  changed(db: Kysely<Database>, incident: Incident, action: IncidentAction, now: Date): Promise<void>;
  /** After commit: new work may be due now. */
  committed(): void;
}

export class EscalationScheduler implements IncidentHooks {
  private listeners: (() => void)[] = [];
  /**
   * Set when a hook wrote timers or notifications (or cancelled some). Most commits in an alert storm only attach
   * alerts to an open incident; waking the engine for those would run its claim queries for nothing.
   */
  private engineWorkWritten = false;

  constructor(private readonly policy: Policy) {}

  /** The engine subscribes here to be woken after commits. */
  onCommit(listener: () => void): void {
    this.listeners.push(listener);
  }

  committed(): void {
    if (!this.engineWorkWritten) return;
    this.engineWorkWritten = false;
    for (const listener of this.listeners) listener();
  }

  planFor(draft: IncidentDraft, now: Date): EscalationPlanning {
    if (!this.pages(draft)) return { plan: null, timeline: [] };
    const plan = planEscalation(this.policy, draft);
    return { plan, timeline: [plannedEntry(plan, draft, now)] };
  }

  async opened(
    db: Kysely<Database>,
    incident: Incident,
    now: Date,
    plan: PlannedStep[] | null,
  ): Promise<void> {
    await this.schedule(db, incident, now, 'opened', plan);
  }

  async reopened(db: Kysely<Database>, incident: Incident, now: Date): Promise<void> {
    // A reopened incident gets a fresh plan from now on; its row exists, so the plan is an update.
    const { plan, timeline } = this.planFor(incident, now);
    if (plan) {
      await updateWhere(db, 'incidents', { escalation_plan: JSON.stringify(plan) }, { id: incident.id });
      await appendTimeline(db, incident.id, timeline);
    }
    await this.schedule(db, incident, now, 'reopened', plan);
  }

  /** Another alert joined: people are not paged again, but issue trackers record that it failed again. */
  async attached(db: Kysely<Database>, incident: Incident, now: Date): Promise<void> {
    for (const channel of this.teamChannels(incident)) {
      if (this.policy.channels[channel]?.type !== 'github-issues') continue;
      this.engineWorkWritten = true;
      await insertNotification(db, this.teamMessage(incident, channel, 'attached', now));
    }
  }

  async changed(db: Kysely<Database>, incident: Incident, action: IncidentAction, now: Date): Promise<void> {
    if (action !== 'resolve') return;
    this.engineWorkWritten = true;
    const stamp = isoString(now);
    const cancelled = await cancelTimers(db, incident.id, 'the incident was resolved', stamp);
    const pages = await cancelPendingPages(db, incident.id, stamp);
    if (cancelled + pages > 0) {
      await appendTimeline(db, incident.id, [
        {
          at: stamp,
          actor: 'guardia',
          kind: 'escalation_stopped',
          message: `Escalation stopped: ${cancelled} pending step(s) and ${pages} undelivered page(s) cancelled`,
        },
      ]);
    }
    await insertNotifications(
      db,
      this.teamChannels(incident).map((channel) => this.teamMessage(incident, channel, 'resolved', now)),
    );
  }

  /** Writes the timers of `plan` (none when null), the two SLA checks, and the team channels' messages. */
  private async schedule(
    db: Kysely<Database>,
    incident: Incident,
    now: Date,
    kind: 'opened' | 'reopened',
    plan: PlannedStep[] | null,
  ): Promise<void> {
    this.engineWorkWritten = true;
    const timers: NewTimer[] = [
      { kind: 'sla_check', incident_id: incident.id, due_at: incident.ack_due_at, payload: { clock: 'ack' } },
      {
        kind: 'sla_check',
        incident_id: incident.id,
        due_at: incident.mitigate_due_at,
        payload: { clock: 'mitigate' },
      },
    ];
    for (const step of plan ?? [])
      timers.push({
        kind: 'escalation_step',
        incident_id: incident.id,
        due_at: step.due_at,
        payload: { step },
      });
    await insertTimers(db, timers);
    await insertNotifications(
      db,
      this.teamChannels(incident).map((channel) => this.teamMessage(incident, channel, kind, now)),
    );
  }

  /** Declared incidents page; alert incidents page when their route names a pager channel. */
  private pages(incident: { route: string | null }): boolean {
    const route = this.policy.routes.find((r) => r.name === incident.route);
    if (!route) return true;
    return route.notify.some((name) => this.policy.channels[name]?.type === 'pager');
  }

  private teamChannels(incident: Incident): string[] {
    const route = this.policy.routes.find((r) => r.name === incident.route);
    return (route?.notify ?? []).filter((name) => {
      const type = this.policy.channels[name]?.type;
      return type !== undefined && type !== 'pager';
    });
  }

  private teamMessage(incident: Incident, channel: string, kind: string, now: Date) {
    return {
      incident_id: incident.id,
      kind,
      channel,
      person_id: null,
      contact_index: 0,
      payload: {},
      next_attempt_at: isoString(now),
      created_at: isoString(now),
    };
  }
}

/** The timeline's record of a frozen plan (data.plan keeps the steps exactly as the timers have them). */
function plannedEntry(plan: PlannedStep[], incident: PlanInput, now: Date): TimelineEntry {
  return {
    at: isoString(now),
    actor: 'guardia',
    kind: 'escalation_planned',
    message: `Escalation plan: ${describePlan(plan, incident)}`,
    data: { plan },
  };
}

function describePlan(plan: PlannedStep[], incident: PlanInput): string {
  const start = new Date(incident.started_at).getTime();
  return plan
    .map((step) => {
      const offset = Math.round((new Date(step.due_at).getTime() - start) / 60_000);
      return `T+${offset}m ${step.notify.join(', ')}${step.unless ? ` unless ${step.unless}` : ''}`;
    })
    .join('; ');
}

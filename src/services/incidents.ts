/**
 * IncidentService: declare, acknowledge, mitigate, resolve, read. It loads state, asks the pure domain what
 * happens, and writes the result and its timeline in one transaction.
 */
import type { Kysely } from 'kysely';
import type { IncidentHooks } from '../engine/scheduler.js';
import { transition, type IncidentAction, type TimelineEntry } from '../domain/incidents/incident.js';
import type { Policy, Severity } from '../domain/policy/schema.js';
import { computeDueDates } from '../domain/sla/clocks.js';
import type { Clock } from '../shared/clock.js';
import { GuardiaError } from '../shared/errors.js';
import { cleanText } from '../shared/text.js';
import { isUniqueViolation, type Store } from '../store/db.js';
import {
  appendTimeline,
  getIncident,
  getTimeline,
  insertIncident,
  listIncidents,
  updateIncident,
  type Incident,
  type ListIncidentsQuery,
  type TimelineEvent,
} from '../store/incidents-repo.js';
import type { Database } from '../store/schema.js';
import { isoString } from '../shared/iso-time.js';

export interface NewIncidentInput {
  title: string;
  severity: Severity;
  started_at: Date;
  dedup_key: string | null;
  integration: string | null;
  route: string | null;
  source: string | null;
  details: Record<string, unknown>;
  links: { href: string; text?: string }[];
}

/**
 * Inserts a new incident with its SLA deadlines (from the policy's targets and business calendar), its escalation
 * plan and its first timeline entries, then lets `hooks` schedule its timers and messages (all in the caller's
 * transaction). Shared by declaration and alert ingest so both open incidents the same way.
 */
export async function openIncident(
  db: Kysely<Database>,
  policy: Policy,
  input: NewIncidentInput,
  now: Date,
  opened: Omit<TimelineEntry, 'at'>,
  hooks: IncidentHooks | undefined,
): Promise<Incident> {
  const due = computeDueDates(input.started_at, policy.severities[input.severity], policy.calendar);
  const stamp = isoString(now);
  const started = isoString(input.started_at);
  const ackDue = isoString(due.ackDueAt);
  const mitigateDue = isoString(due.mitigateDueAt);
  const planning = hooks?.planFor(
    {
      severity: input.severity,
      route: input.route,
      started_at: started,
      ack_due_at: ackDue,
      mitigate_due_at: mitigateDue,
    },
    now,
  );
  const incident = await insertIncident(db, {
    title: input.title,
    severity: input.severity,
    status: 'triggered',
    dedup_key: input.dedup_key,
    integration: input.integration,
    route: input.route,
    source: input.source,
    started_at: started,
    ack_due_at: ackDue,
    mitigate_due_at: mitigateDue,
    acknowledged_at: null,
    acknowledged_by: null,
    ack_implied: 0,
    mitigated_at: null,
    mitigated_by: null,
    mitigation_implied: 0,
    resolved_at: null,
    resolved_by: null,
    alert_count: input.integration ? 1 : 0,
    last_alert_at: input.integration ? stamp : null,
    reopen_count: 0,
    details: JSON.stringify(input.details),
    links: JSON.stringify(input.links),
    escalation_plan: planning?.plan ? JSON.stringify(planning.plan) : null,
    created_at: stamp,
    updated_at: stamp,
  });
  await appendTimeline(db, incident.id, [{ ...opened, at: stamp }, ...(planning?.timeline ?? [])]);
  if (hooks) await hooks.opened(db, incident, now, planning?.plan ?? null);
  return incident;
}

export interface DeclareInput {
  title: string;
  severity: Severity;
  started_at?: Date;
  dedup_key?: string;
  details?: Record<string, unknown>;
  links?: { href: string; text?: string }[];
}

export class IncidentService {
  constructor(
    private readonly store: Store,
    private readonly policy: Policy,
    private readonly clock: Clock,
    private readonly hooks?: IncidentHooks,
  ) {}

  /** Declares an incident by hand (a person saw a problem before any alert did). */
  async declare(input: DeclareInput, actor: string): Promise<Incident> {
    const now = this.clock.now();
    const startedAt = input.started_at ?? now;
    if (startedAt.getTime() > now.getTime() + 60_000) {
      throw new GuardiaError('invalid_input', 'started_at is in the future', {
        issues: [
          { field: 'started_at', message: 'must not be in the future', received: isoString(startedAt) },
        ],
      });
    }
    const id = await this.store.db.transaction().execute(async (trx) => {
      try {
        const opened = await openIncident(
          trx,
          this.policy,
          {
            title: input.title,
            severity: input.severity,
            started_at: startedAt,
            dedup_key: input.dedup_key === undefined ? null : cleanText(input.dedup_key),
            integration: null,
            route: null,
            source: 'declared',
            details: input.details ?? {},
            links: input.links ?? [],
          },
          now,
          { actor, kind: 'declared', message: `Declared ${input.severity} by ${actor}: ${input.title}` },
          this.hooks,
        );
        return opened.id;
      } catch (err) {
        if (input.dedup_key && isUniqueViolation(err)) {
          throw new GuardiaError('conflict', `an open incident already has dedup_key "${input.dedup_key}"`);
        }
        throw err;
      }
    });
    this.hooks?.committed();
    return this.require(id);
  }

  /** Acknowledges, mitigates or resolves an incident; a repeated action is refused with who did it first. */
  async act(id: number, action: IncidentAction, actor: string, note?: string): Promise<Incident> {
    const now = this.clock.now();
    await this.store.db.transaction().execute(async (trx) => {
      const incident = await getIncident(trx, id);
      if (!incident) throw notFound(id);
      const result = transition(incident, action, now, actor, note);
      await updateIncident(trx, id, result.changes, isoString(now));
      await appendTimeline(trx, id, result.timeline);
      await this.hooks?.changed(trx, { ...incident, ...result.changes }, action, now);
    });
    this.hooks?.committed();
    return this.require(id);
  }

  async get(id: number): Promise<{ incident: Incident; timeline: TimelineEvent[] }> {
    const incident = await this.require(id);
    return { incident, timeline: await getTimeline(this.store.db, id) };
  }

  async list(query: ListIncidentsQuery): Promise<Incident[]> {
    return listIncidents(this.store.db, query);
  }

  private async require(id: number): Promise<Incident> {
    const incident = await getIncident(this.store.db, id);
    if (!incident) throw notFound(id);
    return incident;
  }
}

function notFound(id: number): GuardiaError {
  return new GuardiaError('not_found', `incident ${id} not found`);
}

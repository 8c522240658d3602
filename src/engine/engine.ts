/**
 * The escalation engine: executes due timers (escalation steps, SLA checks) and delivers outbox notifications.
 * Work is claimed with leases, so several instances can run it; nothing that matters lives only in memory.
 * It wakes on commit (the scheduler calls it after every incident change) and otherwise sleeps until the next
 * due time, never longer than `pollMs` — other instances and the CLI write rows it must notice.
 */
import crypto from 'node:crypto';
import type { Policy, PersonPolicy } from '../domain/policy/schema.js';
import type { PlannedStep } from '../domain/escalation/plan.js';
import { stepStillNeeded } from '../domain/escalation/plan.js';
import { afterAttempt, nextLevelRole } from '../domain/escalation/delivery.js';
import { wallMs } from '../domain/policy/duration.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/db.js';
import {
  claimDueNotifications,
  claimDueTimers,
  finishTimer,
  insertNotification,
  insertNotifications,
  nextDueAt,
  pagedRoles,
  recordAttempt,
} from '../store/engine-repo.js';
import { appendTimeline, getIncidents, type Incident } from '../store/incidents-repo.js';
import type { NotificationRow, TimerRow } from '../store/schema.js';
import type { DeliveryResult, OutboundMessage, Recipient } from '../notify/channel.js';
import { senderFor } from '../notify/registry.js';
import { StoreRefs } from '../notify/refs.js';
import { createAckLink } from '../notify/ack-link.js';
import { isoString } from '../shared/iso-time.js';

/** Turns role/person ids into the people to page at a moment (rotations and overrides applied). */
export interface TargetResolver {
  resolveTargets(
    ids: string[],
    at: Date,
  ): Promise<{ targets: { person: PersonPolicy; via: string }[]; unresolved: string[] }>;
}

export interface EngineDeps {
  store: Store;
  policy: Policy;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  settings: { secretKey: string; publicUrl: string };
  oncall: TargetResolver;
}

export interface EngineOptions {
  /** Identifies this instance's leases. */
  owner?: string;
  leaseMs?: number;
  /** Longest sleep between cycles. */
  pollMs?: number;
  /** Jitter source (tests pass a fixed one). */
  random?: () => number;
  /** Called with any unexpected error of a cycle (the engine keeps running). */
  onError?: (err: unknown) => void;
}

/** Payload of a page notification: who, through which role, for which step. */
interface PagePayload {
  via?: string;
  step?: { index: number; roles: string[] };
  breach?: 'ack' | 'mitigate';
}

type Trx = Parameters<typeof appendTimeline>[0];
/** The writes one timer or delivery outcome makes, run inside a transaction shared with others. */
type Write = (trx: Trx) => Promise<void>;

/** Shortest sleep between timer-driven cycles. */
const MIN_SLEEP_MS = 50;

const ACK_LINK_TTL_MS = 24 * 3_600_000;

export class Engine {
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly random: () => number;
  private readonly refs: StoreRefs;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private queuedWrites: { write: Write; resolve: () => void }[] = [];
  private again = false;
  private stopped = true;

  constructor(
    private readonly deps: EngineDeps,
    private readonly options: EngineOptions = {},
  ) {
    this.owner = options.owner ?? `guardia-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.random = options.random ?? Math.random;
    this.refs = new StoreRefs(deps.store.db, deps.clock);
  }

  /** Starts the loop; overdue work (e.g. steps that fell due while Guardia was down) runs at once. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops scheduling and waits for the cycle in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs a cycle as soon as possible (called after commits). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.runDue();
      } catch (err) {
        this.options.onError?.(err);
      }
    } while (this.again && !this.stopped);
    if (!this.stopped) await this.scheduleNext();
  }

  private async scheduleNext(): Promise<void> {
    let delay = this.pollMs;
    try {
      const next = await nextDueAt(this.deps.store.db);
      if (next)
        // At least MIN_SLEEP_MS: a due row leased by another instance (mid-delivery, or until a crashed
        // instance's lease expires) would otherwise make this loop spin at full CPU. Commits still wake at once.
        delay = Math.max(
          MIN_SLEEP_MS,
          Math.min(this.pollMs, new Date(next).getTime() - this.deps.clock.now().getTime()),
        );
    } catch (err) {
      this.options.onError?.(err);
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref?.();
  }

  /**
   * Executes everything due now: timers first (they create notifications), then deliveries, repeated until
   * nothing is left. Scenario tests call this directly after moving a fake clock.
   */
  async runDue(): Promise<{ timers: number; notifications: number }> {
    let timers = 0;
    let notifications = 0;
    for (;;) {
      const now = this.deps.clock.now();
      const lease = {
        owner: this.owner,
        now: isoString(now),
        until: isoString(new Date(now.getTime() + this.leaseMs)),
      };
      const dueTimers = await claimDueTimers(this.deps.store.db, this.deps.store.dialect, lease);
      if (dueTimers.length > 0) await this.fireTimers(dueTimers);
      const dueNotes = await claimDueNotifications(this.deps.store.db, this.deps.store.dialect, lease);
      if (dueNotes.length > 0) await this.deliverAll(dueNotes);
      timers += dueTimers.length;
      notifications += dueNotes.length;
      if (dueTimers.length === 0 && dueNotes.length === 0) return { timers, notifications };
    }
  }

  /**
   * Fires a batch of leased timers. Reads come first and outside any transaction (who is on call is answered
   * from the store, and SQLite has one connection); then the writes of the whole batch commit together, because
   * one commit per timer is what limits a busy instance. If the batch fails, each timer is retried on its own so
   * one bad row cannot hold up the others.
   */
  private async fireTimers(timers: TimerRow[]): Promise<void> {
    const now = this.deps.clock.now();
    const incidents = await getIncidents(
      this.deps.store.db,
      timers.map((t) => t.incident_id),
    );
    const targets = new Map<string, ReturnType<TargetResolver['resolveTargets']>>();
    const resolve = (ids: string[]) => {
      // One on-call lookup per distinct role list in the batch (a storm fires many identical first steps).
      const key = ids.join('\u0000');
      let found = targets.get(key);
      if (!found) targets.set(key, (found = this.deps.oncall.resolveTargets(ids, now)));
      return found;
    };
    // Escalation steps commit before SLA checks are decided: a breach pages the next role beyond those already
    // paged, and that must include a step fired in this same batch.
    const steps = timers.filter((t) => t.kind === 'escalation_step');
    const others = timers.filter((t) => t.kind !== 'escalation_step');
    for (const group of [steps, others]) {
      const writes: Write[] = [];
      for (const timer of group)
        writes.push(await this.prepareTimer(timer, incidents.get(timer.incident_id), now, resolve));
      await this.commitWrites(writes);
    }
  }

  /** Runs the writes of a batch in one transaction; if that fails, each in its own (and reports those failing). */
  private async commitWrites(writes: Write[]): Promise<void> {
    if (writes.length === 0) return;
    try {
      await this.deps.store.db.transaction().execute(async (trx) => {
        for (const write of writes) await write(trx);
      });
    } catch {
      for (const write of writes) {
        try {
          await this.deps.store.db.transaction().execute((trx) => write(trx));
        } catch (err) {
          this.options.onError?.(err);
        }
      }
    }
  }

  /** Decides what a due timer does (pure decisions plus the reads they need) and returns its writes. */
  private async prepareTimer(
    timer: TimerRow,
    incident: Incident | undefined,
    now: Date,
    resolve: (ids: string[]) => ReturnType<TargetResolver['resolveTargets']>,
  ): Promise<Write> {
    const stamp = isoString(now);
    const payload = JSON.parse(timer.payload) as { step?: PlannedStep; clock?: 'ack' | 'mitigate' };
    const finish = (trx: Trx, status: 'done' | 'cancelled', outcome: string) =>
      finishTimer(trx, timer.id, this.owner, status, outcome, stamp);
    if (!incident) return async (trx) => void (await finish(trx, 'cancelled', 'incident not found'));
    if (timer.kind === 'escalation_step' && payload.step) {
      const step = payload.step;
      const decision = stepStillNeeded(step, incident);
      if (!decision.fire)
        return async (trx) => {
          if (!(await finish(trx, 'cancelled', decision.reason!))) return;
          await appendTimeline(trx, incident.id, [
            {
              at: stamp,
              actor: 'guardia',
              kind: 'escalation_skipped',
              message: `Escalation step ${step.index + 1} (${step.notify.join(', ')}) skipped: ${decision.reason}`,
            },
          ]);
        };
      const resolved = await resolve(step.notify);
      return async (trx) => {
        if (!(await finish(trx, 'done', 'fired'))) return;
        await this.page(
          trx,
          incident,
          resolved,
          now,
          { step: { index: step.index, roles: step.notify } },
          `Escalation step ${step.index + 1} (${step.rule})`,
        );
      };
    }
    if (timer.kind === 'sla_check' && payload.clock) {
      const clock = payload.clock;
      const done = clock === 'ack' ? incident.acknowledged_at : incident.mitigated_at;
      if (done !== null || incident.status === 'resolved')
        return async (trx) => void (await finish(trx, 'cancelled', 'clock met'));
      const what = clock === 'ack' ? 'acknowledgement' : 'mitigation';
      const due = clock === 'ack' ? incident.ack_due_at : incident.mitigate_due_at;
      // The next level: unless a planned step still covers it, page the next role beyond those already paged.
      const plan = incident.escalation_plan ? (JSON.parse(incident.escalation_plan) as PlannedStep[]) : [];
      const covered = plan.some((s) => s.due_at >= due && stepStillNeeded(s, incident).fire);
      const role =
        plan.length > 0 && !covered
          ? nextLevelRole(this.deps.policy, await pagedRoles(this.deps.store.db, incident.id))
          : undefined;
      const resolved = role ? await resolve([role]) : undefined;
      return async (trx) => {
        if (!(await finish(trx, 'done', 'breached'))) return;
        await appendTimeline(trx, incident.id, [
          {
            at: stamp,
            actor: 'guardia',
            kind: 'sla_breached',
            message: `SLA breached: ${what} was due at ${due}`,
            data: { clock, due_at: due },
          },
        ]);
        if (resolved)
          await this.page(trx, incident, resolved, now, { breach: clock }, `SLA breach (${what})`);
      };
    }
    return async (trx) => void (await finish(trx, 'cancelled', `unknown timer kind ${timer.kind}`));
  }

  /** Writes one page notification per target person (their first contact), with timeline entries. */
  private async page(
    trx: Trx,
    incident: Incident,
    resolved: Awaited<ReturnType<TargetResolver['resolveTargets']>>,
    now: Date,
    payload: PagePayload,
    why: string,
  ): Promise<void> {
    const stamp = isoString(now);
    const { targets, unresolved } = resolved;
    const lines: string[] = [];
    const pages: Parameters<typeof insertNotifications>[1] = [];
    for (const { person, via } of targets) {
      const contact = person.contacts[0];
      if (!contact) {
        lines.push(`cannot page ${person.name} (${via}): no contact methods in the policy`);
        continue;
      }
      pages.push({
        incident_id: incident.id,
        kind: 'page',
        channel: contact.channel,
        person_id: person.id,
        contact_index: 0,
        payload: { ...payload, via },
        next_attempt_at: stamp,
        created_at: stamp,
      });
      lines.push(`paging ${person.name} (${via}) via ${contact.channel}`);
    }
    await insertNotifications(trx, pages);
    for (const id of unresolved) lines.push(`nobody holds "${id}"`);
    if (targets.length === 0 && unresolved.length === 0) lines.push('nobody to page');
    await appendTimeline(trx, incident.id, [
      {
        at: stamp,
        actor: 'guardia',
        kind: 'escalated',
        message: `${why}: ${lines.join('; ')}`,
        data: { targets: targets.map((t) => ({ person: t.person.id, via: t.via })), unresolved },
      },
    ]);
  }

  /**
   * Delivers a batch of leased notifications. They go out concurrently (one slow provider must not hold up pages
   * to other people); each outcome is recorded as soon as it is known, and outcomes that arrive together share a
   * commit (`recordSoon`).
   */
  private async deliverAll(notes: NotificationRow[]): Promise<void> {
    const incidents = await getIncidents(
      this.deps.store.db,
      notes.map((n) => n.incident_id),
    );
    await Promise.all(notes.map((n) => this.deliver(n, incidents.get(n.incident_id))));
  }

  /**
   * Queues writes to be committed with the others queued in the same turn of the event loop (group commit, as
   * ingest does); resolves once they are committed.
   */
  private recordSoon(write: Write): Promise<void> {
    return new Promise((resolve) => {
      this.queuedWrites.push({ write, resolve });
      if (this.queuedWrites.length === 1)
        setImmediate(() => {
          void this.flushQueuedWrites();
        });
    });
  }

  private async flushQueuedWrites(): Promise<void> {
    const batch = this.queuedWrites;
    this.queuedWrites = [];
    await this.commitWrites(batch.map((b) => b.write));
    for (const b of batch) b.resolve();
  }

  /** Sends one notification (outside any transaction), then records the attempt and what comes next. */
  private async deliver(note: NotificationRow, incident: Incident | undefined): Promise<void> {
    const { policy } = this.deps;
    const person = note.person_id ? policy.people.find((p) => p.id === note.person_id) : undefined;
    const contact = person?.contacts[note.contact_index];
    const channel = policy.channels[note.channel];
    const sender = channel ? senderFor(channel.type) : undefined;
    const payload = JSON.parse(note.payload) as PagePayload;
    const attempts = note.attempts + 1;
    let result: DeliveryResult;
    if (!incident) result = { ok: false, retryable: false, detail: 'incident not found' };
    else if (!channel || !sender)
      result = {
        ok: false,
        retryable: false,
        detail: `channel "${note.channel}" is not configured in the policy`,
      };
    else if (note.person_id && (!person || !contact))
      result = {
        ok: false,
        retryable: false,
        detail: `person "${note.person_id}" has no contact #${note.contact_index + 1}`,
      };
    else {
      const message = this.buildMessage(note, incident, person, contact, payload);
      try {
        result = await sender.send(message, channel as never, {
          channelName: note.channel,
          policy,
          env: this.deps.env,
          timeoutMs: wallMs(policy.delivery.timeout),
          refs: this.refs,
        });
      } catch (err) {
        // A sender should not throw; if one does, it is still a visible, retryable failure.
        result = { ok: false, retryable: true, detail: `sender error: ${(err as Error).message}` };
      }
    }
    const now = this.deps.clock.now();
    const stamp = isoString(now);
    const hasNext = person !== undefined && note.contact_index + 1 < person.contacts.length;
    const outcome = afterAttempt(result, attempts, policy.delivery, hasNext, this.random);
    const who = person ? `${person.name}` : `the ${note.channel} channel`;
    const what = `${note.kind === 'page' ? 'Page to' : `${capitalize(note.kind)} message to`} ${who} via ${note.channel}`;
    await this.recordSoon(async (trx) => {
      if (outcome.action === 'delivered') {
        if (
          !(await recordAttempt(trx, note.id, this.owner, {
            status: 'delivered',
            attempts,
            last_error: null,
            delivered_at: stamp,
          }))
        )
          return;
        await appendTimeline(trx, note.incident_id, [
          {
            at: stamp,
            actor: 'guardia',
            kind: 'notification_delivered',
            message: `${what} delivered (attempt ${attempts}): ${result.detail}`,
            data: { notification_id: note.id, channel: note.channel, attempts },
          },
        ]);
        return;
      }
      if (outcome.action === 'retry') {
        const next = isoString(new Date(now.getTime() + outcome.delayMs));
        if (
          !(await recordAttempt(trx, note.id, this.owner, {
            status: 'pending',
            attempts,
            next_attempt_at: next,
            last_error: result.detail,
          }))
        )
          return;
        await appendTimeline(trx, note.incident_id, [
          {
            at: stamp,
            actor: 'guardia',
            kind: 'notification_failed',
            message: `${what} failed (attempt ${attempts}/${policy.delivery.max_attempts}): ${result.detail}; retrying at ${next}${outcome.providerWait ? ' (when the provider said to)' : ''}`,
            data: {
              notification_id: note.id,
              channel: note.channel,
              attempts,
              status: result.status ?? null,
            },
          },
        ]);
        return;
      }
      if (
        !(await recordAttempt(trx, note.id, this.owner, {
          status: 'failed',
          attempts,
          last_error: result.detail,
        }))
      )
        return;
      const entries = [
        {
          at: stamp,
          actor: 'guardia',
          kind: 'notification_gave_up',
          message: `${what} failed for good after ${attempts} attempt(s): ${result.detail}`,
          data: { notification_id: note.id, channel: note.channel, attempts, status: result.status ?? null },
        },
      ];
      if (outcome.failover && person) {
        const nextContact = person.contacts[note.contact_index + 1]!;
        await insertNotification(trx, {
          incident_id: note.incident_id,
          kind: note.kind,
          channel: nextContact.channel,
          person_id: person.id,
          contact_index: note.contact_index + 1,
          payload: { ...payload },
          next_attempt_at: stamp,
          created_at: stamp,
        });
        entries.push({
          at: stamp,
          actor: 'guardia',
          kind: 'notification_failover',
          message: `Failing over: trying ${person.name} via ${nextContact.channel}`,
          data: { notification_id: note.id, channel: nextContact.channel, attempts: 0, status: null },
        });
      } else if (person) {
        entries.push({
          at: stamp,
          actor: 'guardia',
          kind: 'notification_unreachable',
          message: `Could not reach ${person.name} on any contact method`,
          data: { notification_id: note.id, channel: note.channel, attempts, status: null },
        });
      }
      await appendTimeline(trx, note.incident_id, entries);
    });
    if (outcome.action !== 'delivered') this.again = true;
  }

  private buildMessage(
    note: NotificationRow,
    incident: Incident,
    person: PersonPolicy | undefined,
    contact: PersonPolicy['contacts'][number] | undefined,
    payload: PagePayload,
  ): OutboundMessage {
    const { settings } = this.deps;
    const recipient: Recipient | null = person
      ? {
          person_id: person.id,
          name: person.name,
          language: person.language,
          ...(contact?.slack_user ? { slack_user: contact.slack_user } : {}),
          ...(contact?.address ? { address: contact.address } : {}),
        }
      : null;
    const channel = this.deps.policy.channels[note.channel];
    const now = this.deps.clock.now();
    const ackUrl =
      note.kind === 'page' && channel?.type === 'email' && person
        ? createAckLink(
            {
              incidentId: incident.id,
              personId: person.id,
              expiresAt: new Date(now.getTime() + ACK_LINK_TTL_MS),
            },
            settings.secretKey,
            settings.publicUrl,
          )
        : undefined;
    return {
      kind: note.kind as OutboundMessage['kind'],
      incident: {
        id: incident.id,
        title: incident.title,
        severity: incident.severity,
        status: incident.status,
        started_at: incident.started_at,
        ack_due_at: incident.ack_due_at,
        mitigate_due_at: incident.mitigate_due_at,
        dedup_key: incident.dedup_key,
        route: incident.route,
        alert_count: incident.alert_count,
        links: incident.links,
        details: incident.details,
      },
      recipient,
      language: person?.language ?? 'en',
      ...(payload.step ? { step: payload.step } : {}),
      ...(payload.breach ? { breach: payload.breach } : {}),
      ...(ackUrl ? { ack_url: ackUrl } : {}),
      incident_url: `${settings.publicUrl}/api/v1/incidents/${incident.id}`,
    };
  }
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

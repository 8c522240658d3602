/**
 * IngestService: turns normalized alerts into durable rows and incident changes. A request is answered only after
 * its alert is committed. Alerts arriving together are committed together (group commit): one transaction per
 * batch instead of one per alert is what lets a single SQLite file take thousands of alerts a second.
 */
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import { reopen, transition } from '../domain/incidents/incident.js';
import { wallMs } from '../domain/policy/duration.js';
import type { Policy, RoutePolicy } from '../domain/policy/schema.js';
import { routeAlert } from '../domain/routing/route.js';
import { computeDueDates } from '../domain/sla/clocks.js';
import type { ParsedDelivery } from '../ingest/adapter.js';
import type { IngestResult, NormalizedAlert } from '../ingest/alert.js';
import type { Clock } from '../shared/clock.js';
import { GuardiaError } from '../shared/errors.js';
import { cleanText } from '../shared/text.js';
import { findDelivery, insertAlert } from '../store/alerts-repo.js';
import type { Store } from '../store/db.js';
import {
  appendTimeline,
  attachAlert,
  findOpenByDedupKey,
  findRecentlyResolved,
  getIncident,
  updateIncident,
  type Incident,
} from '../store/incidents-repo.js';
import type { Database } from '../store/schema.js';
import { upsertWorkflowRun } from '../store/workflow-runs-repo.js';
import type { IncidentHooks } from '../engine/scheduler.js';
import { isStoreOutage, isUniqueViolation } from '../store/db.js';
import { openIncident } from './incidents.js';
import { isoString } from '../shared/iso-time.js';

export interface IngestObserver {
  alertIngested(integration: string, outcome: string): void;
}

interface Pending {
  delivery: ParsedDelivery;
  resolve(results: IngestResult[]): void;
  reject(err: unknown): void;
}

/** Upper bound of alerts per transaction, so one batch never holds the write lock for long. */
const MAX_BATCH = 500;

export class IngestService {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly store: Store,
    private readonly policy: Policy,
    private readonly clock: Clock,
    private readonly observer?: IngestObserver,
    private readonly hooks?: IncidentHooks,
  ) {}

  /** Stores the alert and applies it to its incident; resolves once both are committed. */
  async accept(alert: NormalizedAlert): Promise<IngestResult> {
    const [result] = await this.acceptDelivery({ alerts: [alert] });
    return result!;
  }

  /**
   * Stores everything one inbound request carried — its alerts and workflow-run records — in one transaction,
   * and resolves with one result per alert once it is committed.
   */
  acceptDelivery(delivery: ParsedDelivery): Promise<IngestResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ delivery, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      // Wait for the write lock before choosing the batch: what arrives while the engine thread writes joins it.
      const release = await this.store.writeTurn?.();
      try {
        await this.commitBatch(this.queue.splice(0, MAX_BATCH));
      } finally {
        release?.();
      }
    }
    this.flushing = false;
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    let results: IngestResult[][];
    try {
      results = await this.store.db.transaction().execute(async (trx) => {
        const out: IngestResult[][] = [];
        for (const item of batch) out.push(await this.applyDelivery(trx, item.delivery));
        return out;
      });
    } catch {
      // One bad alert (or a race with another instance) must not fail its neighbours: retry each on its own.
      for (const item of batch) await this.commitOne(item);
      return;
    }
    this.hooks?.committed();
    batch.forEach((item, i) => this.settle(item, results[i]!));
  }

  private async commitOne(item: Pending, attempt = 1): Promise<void> {
    try {
      const results = await this.store.db
        .transaction()
        .execute((trx) => this.applyDelivery(trx, item.delivery));
      this.hooks?.committed();
      this.settle(item, results);
    } catch (err) {
      // A unique violation means another writer got there first (same delivery, or the same dedup key opened
      // concurrently); applying again sees its row and attaches or answers "duplicate".
      if (isUniqueViolation(err) && attempt < 3) return this.commitOne(item, attempt + 1);
      item.reject(asStoreError(err));
    }
  }

  private settle(item: Pending, results: IngestResult[]): void {
    item.delivery.alerts.forEach((alert, i) =>
      this.observer?.alertIngested(alert.integration, results[i]!.outcome),
    );
    item.resolve(results);
  }

  private async applyDelivery(db: Kysely<Database>, delivery: ParsedDelivery): Promise<IngestResult[]> {
    const stamp = isoString(this.clock.now());
    for (const run of delivery.workflowRuns ?? []) await upsertWorkflowRun(db, run, stamp);
    const results: IngestResult[] = [];
    for (const alert of delivery.alerts) results.push(await this.apply(db, alert));
    return results;
  }

  /** Applies one alert inside a transaction. */
  private async apply(db: Kysely<Database>, input: NormalizedAlert): Promise<IngestResult> {
    // Keys are looked up as well as stored, so they are cleaned before the first query sees them.
    // Long keys are shortened to a prefix plus a hash: they are indexed, and PostgreSQL limits index entries.
    const alert = {
      ...input,
      dedup_key: boundKey(cleanText(input.dedup_key)),
      delivery_key: input.delivery_key === null ? null : boundKey(cleanText(input.delivery_key)),
    };
    const now = this.clock.now();
    const stamp = isoString(now);
    if (alert.delivery_key) {
      const seen = await findDelivery(db, alert.integration, alert.delivery_key);
      if (seen)
        return {
          alert_id: seen.id,
          incident_id: seen.incident_id,
          outcome: 'duplicate',
          dedup_key: seen.dedup_key,
        };
    }
    const record = async (
      incidentId: number | null,
      outcome: IngestResult['outcome'],
    ): Promise<IngestResult> => {
      const alertId = await insertAlert(db, {
        integration: alert.integration,
        dedup_key: alert.dedup_key,
        action: alert.action,
        title: alert.title,
        severity: alert.severity,
        source: alert.source,
        received_at: stamp,
        incident_id: incidentId,
        outcome,
        delivery_key: alert.delivery_key,
        payload: alert.raw,
      });
      return { alert_id: alertId, incident_id: incidentId, outcome, dedup_key: alert.dedup_key };
    };
    const actor = `integration:${alert.integration}`;
    if (alert.action === 'test') return record(null, 'test');

    const open = await findOpenByDedupKey(db, alert.dedup_key);
    if (alert.action === 'trigger') {
      if (open) {
        // New links (e.g. the newest failing run) join the incident so messages can point at them.
        const links = newLinks(open.links, alert.links).length
          ? mergeLinks(open.links, alert.links)
          : undefined;
        await attachAlert(db, open.id, stamp, links);
        await this.hooks?.attached(db, open, now);
        return record(open.id, 'attached');
      }
      const decision = routeAlert(this.policy, alert);
      const since = isoString(new Date(now.getTime() - reopenWindowMs(this.policy)));
      const recent = await findRecentlyResolved(db, alert.dedup_key, since);
      if (recent) {
        const due = computeDueDates(now, this.policy.severities[recent.severity], this.policy.calendar);
        const change = reopen(
          recent,
          now,
          actor,
          due,
          `"${alert.title}" fired again within the reopen window`,
        );
        await updateIncident(
          db,
          recent.id,
          {
            ...change.changes,
            reopen_count: recent.reopen_count + 1,
            last_alert_at: stamp,
            alert_count: recent.alert_count + 1,
          },
          stamp,
        );
        await appendTimeline(db, recent.id, change.timeline);
        if (this.hooks) await this.hooks.reopened(db, (await getIncident(db, recent.id))!, now);
        return record(recent.id, 'reopened');
      }
      const startedAt =
        alert.occurred_at && alert.occurred_at.getTime() <= now.getTime() ? alert.occurred_at : now;
      const opened = await openIncident(
        db,
        this.policy,
        {
          title: alert.title,
          severity: decision.severity,
          started_at: startedAt,
          dedup_key: alert.dedup_key,
          integration: alert.integration,
          route: decision.route.name,
          source: alert.source,
          details: alert.details,
          links: alert.links,
        },
        now,
        {
          actor,
          kind: 'opened',
          message: `Opened from ${alert.integration} alert "${alert.title}" (route ${decision.route.name}, ${decision.severity})`,
          data: { route: decision.route.name, notify: decision.route.notify, dedup_key: alert.dedup_key },
        },
        this.hooks,
      );
      return record(opened.id, 'opened');
    }

    if (!open) return record(null, 'ignored');
    if (alert.action === 'acknowledge') {
      if (open.status !== 'triggered') return record(open.id, 'ignored');
      await this.applyTransition(db, open, 'acknowledge', now, actor, 'acknowledged by the source');
      return record(open.id, 'acknowledged');
    }
    // resolve
    if (!this.routeOf(open, alert).auto_resolve) {
      await appendTimeline(db, open.id, [
        {
          at: stamp,
          actor,
          kind: 'alert_resolved',
          message: 'The source reports the alert resolved; this route does not auto-resolve incidents',
        },
      ]);
      return record(open.id, 'ignored');
    }
    await this.applyTransition(db, open, 'resolve', now, actor, 'resolved by the source');
    return record(open.id, 'resolved');
  }

  private async applyTransition(
    db: Kysely<Database>,
    incident: Incident,
    action: 'acknowledge' | 'resolve',
    now: Date,
    actor: string,
    note: string,
  ): Promise<void> {
    const result = transition(incident, action, now, actor, note);
    await updateIncident(db, incident.id, result.changes, isoString(now));
    await appendTimeline(db, incident.id, result.timeline);
    await this.hooks?.changed(db, { ...incident, ...result.changes }, action, now);
  }

  private routeOf(incident: Incident, alert: NormalizedAlert): RoutePolicy {
    return this.policy.routes.find((r) => r.name === incident.route) ?? routeAlert(this.policy, alert).route;
  }
}

function reopenWindowMs(policy: Policy): number {
  return wallMs(policy.incidents.reopen_window);
}

function newLinks(existing: { href: string }[], incoming: { href: string }[]): { href: string }[] {
  const known = new Set(existing.map((l) => l.href));
  return incoming.filter((l) => !known.has(l.href));
}

/** The incident's links plus the alert's new ones, newest last, at most 50 (the oldest beyond that are dropped). */
function mergeLinks<T extends { href: string }>(existing: T[], incoming: T[]): T[] {
  return [...existing, ...(newLinks(existing, incoming) as T[])].slice(-50);
}

/** Keys longer than 255 characters become their first 200 characters plus a hash of the whole key. */
export function boundKey(key: string): string {
  return key.length <= 255
    ? key
    : `${key.slice(0, 200)}#${crypto.createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/**
 * What a sender hears when its alert could not be committed: a store outage is 503 "retry later"; any other error
 * (a statement the store refused — a bug to fix, not a reason to retry) goes up as it is, so the server logs it
 * with its stack and answers 500.
 */
function asStoreError(err: unknown): unknown {
  if (err instanceof GuardiaError || !isStoreOutage(err)) return err;
  return new GuardiaError('store_unavailable', 'the alert could not be stored; retry later');
}

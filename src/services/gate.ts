/**
 * GateService: loads what the release gate looks at (newest workflow runs, unresolved incidents, overrides),
 * asks the pure `evaluateGate`, and records every decision — a `gate_decisions` row and an audit entry in one
 * transaction — so "who released while the gate was red, and under which override" always has an answer.
 * Overrides are created, revoked and listed here, each change audited in the transaction that makes it.
 *
 * Audit actions: `gate.decision` (subject `decision:{id}`), `gate.override` and `gate.override.revoked`
 * (subject `override:{id}`).
 */
import type { Kysely, Selectable } from 'kysely';
import { recordMatches } from '../domain/evidence/workflows.js';
import {
  evaluateGate,
  type GateCheckResult,
  type GateDecision,
  type GateRun,
  type GateState,
} from '../domain/gate/evaluate.js';
import { overrideState, validateOverride, type GateOverride } from '../domain/gate/override.js';
import type { Policy } from '../domain/policy/schema.js';
import type { Clock } from '../shared/clock.js';
import { GuardiaError } from '../shared/errors.js';
import type { Store } from '../store/db.js';
import type { Database, GateDecisionTable, GateOverrideTable } from '../store/schema.js';
import type { AuditLog } from './audit.js';
import { cleanRow } from '../shared/text.js';

/** Who asked the gate: the CLI, the API (a CI job) or a GitHub deployment protection rule. */
export type GateSource = 'cli' | 'api' | 'github';

export interface RecordedDecision extends GateDecision {
  decision_id: number;
}

export interface StoredDecision {
  id: number;
  decided_at: string;
  result: string;
  checks: GateCheckResult[];
  override_id: number | null;
  source: string;
  actor: string;
  context: Record<string, unknown>;
}

export class GateService {
  constructor(
    private readonly store: Store,
    private readonly policy: Policy,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** Evaluates the gate now and records the decision (row + audit entry, one transaction). */
  async evaluate(request: {
    source: GateSource;
    actor: string;
    context?: Record<string, unknown>;
  }): Promise<RecordedDecision> {
    const now = this.clock.now();
    const state = await this.loadState(now);
    const decision = evaluateGate(state, this.policy, now);
    const context = request.context ?? {};
    const id = await this.store.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('gate_decisions')
        .values({
          decided_at: decision.evaluated_at,
          result: decision.result,
          checks: JSON.stringify(decision.checks),
          override_id: decision.override?.id ?? null,
          source: request.source,
          actor: request.actor,
          context: JSON.stringify(context),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const decisionId = Number(row.id);
      await this.audit.append(
        {
          actor: request.actor,
          action: 'gate.decision',
          subject: `decision:${decisionId}`,
          data: {
            result: decision.result,
            source: request.source,
            failing: decision.checks.filter((c) => c.status === 'fail').map((c) => c.id),
            override_id: decision.override?.id ?? null,
            context,
          },
        },
        trx,
      );
      return decisionId;
    });
    return { ...decision, decision_id: id };
  }

  /** What the gate looks at, as of `now`. */
  async loadState(now: Date): Promise<GateState> {
    const db = this.store.db;
    const [runs, openIncidents, overrides] = await Promise.all([
      this.gatedRuns(db),
      db
        .selectFrom('incidents')
        .select(['id', 'severity', 'status', 'title'])
        .where('status', '<>', 'resolved')
        .execute(),
      db
        .selectFrom('gate_overrides')
        .selectAll()
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now.toISOString())
        .execute(),
    ]);
    return {
      runs,
      openIncidents: openIncidents.map((i) => ({ ...i, id: Number(i.id) })),
      overrides: overrides.map(toOverride),
    };
  }

  /**
   * For each stored workflow that a gate check names: its newest completed run on the release branch, and its
   * newest success (for the "last success …" in a failure's reason). Workflow names are matched in code with
   * `recordMatches`, the one naming rule, so the SQL only lists which workflows exist.
   */
  private async gatedRuns(db: Kysely<Database>): Promise<GateRun[]> {
    const names = this.policy.gate.checks.flatMap((c) => (c.kind === 'workflow_success' ? [c.workflow] : []));
    if (names.length === 0) return [];
    const { branch, repo } = this.policy.github;
    const base = () => {
      // The same filter as countsForRelease (which re-checks), so the newest run per workflow is the right one.
      let q = db
        .selectFrom('workflow_runs')
        .where('status', '=', 'completed')
        .where('completed_at', 'is not', null)
        .where((eb) => eb.or([eb('head_branch', '=', branch), eb('head_branch', 'is', null)]));
      if (repo) q = q.where((eb) => eb(eb.fn('lower', ['repo']), '=', repo.toLowerCase()));
      return q;
    };
    const kinds = await base().select(['repo', 'workflow_path', 'workflow_name']).distinct().execute();
    const wanted = kinds.filter((k) => names.some((n) => recordMatches(n, k)));
    const runs: GateRun[] = [];
    for (const k of wanted) {
      for (const onlySuccess of [false, true]) {
        let q = base()
          .selectAll()
          .where('repo', '=', k.repo)
          .where('workflow_path', '=', k.workflow_path)
          .where('workflow_name', '=', k.workflow_name);
        if (onlySuccess) q = q.where('conclusion', '=', 'success');
        const run = await q.orderBy('completed_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
        if (run) runs.push(run);
      }
    }
    return runs;
  }

  /**
   * Records an override after checking it against the policy (reason, a second person as approver, an expiry
   * within `gate.override.max_duration`). The requester is the caller's identity, never a field they choose.
   */
  async createOverride(input: {
    reason?: string;
    requested_by: string;
    approved_by?: string;
    expires_at?: Date;
  }): Promise<GateOverride> {
    const now = this.clock.now();
    const valid = validateOverride(input, this.policy, now);
    return this.store.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('gate_overrides')
        .values(
          cleanRow({
            reason: valid.reason,
            requested_by: valid.requested_by,
            approved_by: valid.approved_by,
            created_at: now.toISOString(),
            expires_at: valid.expires_at.toISOString(),
            revoked_at: null,
            revoked_by: null,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      const override = toOverride(row);
      await this.audit.append(
        {
          actor: override.requested_by,
          action: 'gate.override',
          subject: `override:${override.id}`,
          data: {
            reason: override.reason,
            requested_by: override.requested_by,
            approved_by: override.approved_by,
            expires_at: override.expires_at,
          },
        },
        trx,
      );
      return override;
    });
  }

  /** Ends an override before its expiry. Refused (conflict) when it is already revoked or expired. */
  async revokeOverride(id: number, actor: string): Promise<GateOverride> {
    const now = this.clock.now();
    return this.store.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('gate_overrides').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new GuardiaError('not_found', `no gate override with id ${id}`);
      const current = toOverride(row);
      const state = overrideState(current, now);
      if (state === 'revoked')
        throw new GuardiaError(
          'conflict',
          `override ${id} was already revoked by ${current.revoked_by} at ${current.revoked_at}`,
        );
      if (state === 'expired')
        throw new GuardiaError('conflict', `override ${id} already expired at ${current.expires_at}`);
      const stamp = now.toISOString();
      await trx
        .updateTable('gate_overrides')
        .set({ revoked_at: stamp, revoked_by: actor })
        .where('id', '=', id)
        .execute();
      await this.audit.append(
        {
          actor,
          action: 'gate.override.revoked',
          subject: `override:${id}`,
          data: { reason: current.reason },
        },
        trx,
      );
      return { ...current, revoked_at: stamp, revoked_by: actor };
    });
  }

  /** Overrides, newest first; `active` only those in force now. */
  async listOverrides(filter: { status?: 'active' | 'all'; limit?: number } = {}): Promise<GateOverride[]> {
    let q = this.store.db
      .selectFrom('gate_overrides')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.status === 'active')
      q = q.where('revoked_at', 'is', null).where('expires_at', '>', this.clock.now().toISOString());
    return (await q.execute()).map(toOverride);
  }

  /** Recorded decisions in a time range (ISO; since inclusive, until exclusive), oldest first. */
  async listDecisions(filter: { since?: string; until?: string } = {}): Promise<StoredDecision[]> {
    let q = this.store.db.selectFrom('gate_decisions').selectAll().orderBy('id', 'asc');
    if (filter.since) q = q.where('decided_at', '>=', filter.since);
    if (filter.until) q = q.where('decided_at', '<', filter.until);
    return (await q.execute()).map(toDecision);
  }
}

function toOverride(row: Selectable<GateOverrideTable>): GateOverride {
  return { ...row, id: Number(row.id) };
}

function toDecision(row: Selectable<GateDecisionTable>): StoredDecision {
  return {
    id: Number(row.id),
    decided_at: row.decided_at,
    result: row.result,
    checks: JSON.parse(row.checks) as GateCheckResult[],
    override_id: row.override_id === null ? null : Number(row.override_id),
    source: row.source,
    actor: row.actor,
    context: JSON.parse(row.context) as Record<string, unknown>,
  };
}

/**
 * On-call: who holds each role at a time, which people an escalation step pages, overrides (created and
 * cancelled with an audit entry in the same transaction) and the escalation dry run. State comes from the store,
 * decisions from the pure functions in src/domain/oncall/.
 */
import {
  overrideState,
  validateOverride,
  type OnCallOverride,
  type OverrideInput,
  type OverrideState,
} from '../domain/oncall/override.js';
import { holdingsAt, resolveTargetIds } from '../domain/oncall/rotation.js';
import { simulateEscalation, type Simulation } from '../domain/oncall/simulate.js';
import type { PersonPolicy, Policy, Severity } from '../domain/policy/schema.js';
import type { Clock } from '../shared/clock.js';
import { GuardiaError } from '../shared/errors.js';
import type { Store } from '../store/db.js';
import {
  findOverride,
  insertOverride,
  listOverrides,
  markOverrideCancelled,
  overridesEndingAfter,
} from '../store/oncall-repo.js';
import type { AuditLog } from './audit.js';

/** One person to page and the role they are paged for ('direct' when the step names the person). */
export interface OnCallTarget {
  person: PersonPolicy;
  via: string;
}

/** Who holds one role at an instant. */
export interface RoleOnCall {
  role: string;
  role_name: string;
  people: PersonPolicy[];
  source: 'rotation' | 'members' | 'override';
  /** When this answer next changes (hand-off, override start or end); null when nothing is scheduled. */
  until: string | null;
}

export type OverrideWithState = OnCallOverride & { state: OverrideState };

export class OnCallService {
  constructor(
    private readonly store: Store,
    private readonly policy: Policy,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  /** Who holds each role at `at` (rotations + overrides), for `guardia oncall` and GET /api/v1/oncall. */
  async whoIsOnCall(at: Date): Promise<RoleOnCall[]> {
    const overrides = await overridesEndingAfter(this.store.db, at.toISOString());
    return holdingsAt(this.policy, overrides, at).map((h) => ({
      role: h.role,
      role_name: this.policy.roles.find((r) => r.id === h.role)?.name ?? h.role,
      people: h.people.map((id) => this.person(id)),
      source: h.source,
      until: h.until,
    }));
  }

  /**
   * Resolves role/person ids to the people to page at `at`, de-duplicated, in order. `unresolved` holds the ids
   * nobody would be paged for: ids that are neither a role nor a person, and roles nobody holds at `at` (a role
   * with no members and no running rotation). Callers must show those, not drop them.
   */
  async resolveTargets(ids: string[], at: Date): Promise<{ targets: OnCallTarget[]; unresolved: string[] }> {
    const overrides = await overridesEndingAfter(this.store.db, at.toISOString());
    const { targets, unresolved } = resolveTargetIds(this.policy, overrides, ids, at);
    return { targets: targets.map((t) => ({ person: this.person(t.person_id), via: t.via })), unresolved };
  }

  /**
   * The escalation an incident of `severity` starting at `at` would follow: each step's due time, the people
   * holding its roles at that time (overrides included), their contact methods in failover order and whether
   * each channel is configured in `env`. Sends nothing and stores nothing.
   */
  async simulate(severity: Severity, at: Date, env: NodeJS.ProcessEnv): Promise<Simulation> {
    const overrides = await overridesEndingAfter(this.store.db, at.toISOString());
    return simulateEscalation(this.policy, overrides, severity, at, env);
  }

  /** Overrides newest first: those not cancelled and not yet over (default), or all. */
  async listOverrides(
    filter: { status?: 'active' | 'all'; limit?: number } = {},
  ): Promise<OverrideWithState[]> {
    const now = this.clock.now();
    const rows = await listOverrides(this.store.db, {
      status: filter.status ?? 'active',
      now: now.toISOString(),
      limit: filter.limit ?? 200,
    });
    return rows.map((o) => ({ ...o, state: overrideState(o, now) }));
  }

  /**
   * Records an override after checking it against the policy (known role and person, ends after it starts, at
   * most 31 days, a reason); a start in the past is recorded as now. Audited in the same transaction.
   * @throws GuardiaError invalid_input naming each wrong field
   */
  async createOverride(input: OverrideInput, actor: string): Promise<OverrideWithState> {
    const now = this.clock.now();
    const valid = validateOverride(input, this.policy, now);
    const created = await this.store.db.transaction().execute(async (trx) => {
      const override = await insertOverride(trx, {
        role: valid.role,
        person_id: valid.person_id,
        starts_at: valid.starts_at.toISOString(),
        ends_at: valid.ends_at.toISOString(),
        reason: valid.reason,
        created_by: actor,
        created_at: now.toISOString(),
      });
      await this.audit.append(
        {
          actor,
          action: 'oncall.override',
          subject: `oncall-override:${override.id}`,
          data: {
            role: override.role,
            person_id: override.person_id,
            starts_at: override.starts_at,
            ends_at: override.ends_at,
            reason: override.reason,
          },
        },
        trx,
      );
      return override;
    });
    return { ...created, state: overrideState(created, now) };
  }

  /**
   * Cancels an override that has not ended (an active one ends now, an upcoming one never starts). Audited in
   * the same transaction. Refused (conflict) when it is already cancelled or over; not_found for an unknown id.
   */
  async cancelOverride(id: number, actor: string, note?: string): Promise<OverrideWithState> {
    const now = this.clock.now();
    const stamp = now.toISOString();
    const cancelled = await this.store.db.transaction().execute(async (trx) => {
      const current = await findOverride(trx, id);
      if (!current) throw new GuardiaError('not_found', `no on-call override with id ${id}`);
      const state = overrideState(current, now);
      if (state === 'ended')
        throw new GuardiaError('conflict', `on-call override ${id} already ended at ${current.ends_at}`);
      if (state === 'cancelled' || !(await markOverrideCancelled(trx, id, stamp, actor))) {
        const latest = (await findOverride(trx, id)) ?? current;
        throw new GuardiaError(
          'conflict',
          `on-call override ${id} was already cancelled by ${latest.cancelled_by} at ${latest.cancelled_at}`,
        );
      }
      await this.audit.append(
        {
          actor,
          action: 'oncall.override.cancelled',
          subject: `oncall-override:${id}`,
          data: {
            role: current.role,
            person_id: current.person_id,
            was: state,
            ...(note ? { note } : {}),
          },
        },
        trx,
      );
      return { ...current, cancelled_at: stamp, cancelled_by: actor };
    });
    return { ...cancelled, state: overrideState(cancelled, now) };
  }

  /** A person of the policy; an id the policy does not know (an old override) is shown as a bare person. */
  private person(id: string): PersonPolicy {
    return this.policy.people.find((p) => p.id === id) ?? { id, name: id, language: 'en', contacts: [] };
  }
}

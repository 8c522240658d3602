/**
 * The release gate (DESIGN.md §2), as a pure function of (state, policy, now): every check in `policy.gate`
 * passes or fails with a reason a person can act on and a link to the evidence. The runbook's defaults block a
 * release when (a) the newest completed backup-restore-smoke run is not a success or is older than 7 days, (b) the
 * newest completed Real DB parity run is not a success, (c) any sev1 is not resolved (mitigated still blocks).
 * An active override turns "blocked" into "overridden"; the failing checks are still listed.
 */
import { recordMatches } from '../evidence/workflows.js';
import type { PolicyDuration } from '../policy/duration.js';
import type { GateCheck, GatePolicy, GitHubPolicy } from '../policy/evidence-schema.js';
import type { BusinessCalendar } from '../policy/schema.js';
import { addBusinessDays } from '../sla/business-time.js';
import { activeOverride, type GateOverride } from './override.js';

/** A stored workflow run, as much of it as the gate reads. */
export interface GateRun {
  repo: string;
  run_id: string;
  run_number: number | null;
  workflow_path: string;
  workflow_name: string;
  head_branch: string | null;
  status: string;
  conclusion: string | null;
  html_url: string | null;
  completed_at: string | null;
}

/** An incident that is not resolved. */
export interface GateIncident {
  id: number;
  severity: string;
  status: string;
  title: string;
}

export interface GateState {
  /** Completed workflow runs; any superset of the newest run of each gated workflow is enough. */
  runs: GateRun[];
  /** Incidents that are not resolved (others are ignored if given). */
  openIncidents: GateIncident[];
  /** Overrides; expired and revoked ones are ignored. */
  overrides: GateOverride[];
}

export type GateResult = 'pass' | 'blocked' | 'overridden';

export interface GateCheckResult {
  id: string;
  title: string;
  kind: GateCheck['kind'];
  status: 'pass' | 'fail';
  reason: string;
  /** The run's page, or the incident's API path. */
  link?: string;
}

export interface GateDecision {
  result: GateResult;
  evaluated_at: string;
  checks: GateCheckResult[];
  /** The override that let a blocked gate through. */
  override?: GateOverride;
}

/** The policy sections the gate reads. */
export interface GatePolicyView {
  gate: GatePolicy;
  github: GitHubPolicy;
  calendar: BusinessCalendar;
}

/** Evaluates every gate check at `now`. */
export function evaluateGate(state: GateState, policy: GatePolicyView, now: Date): GateDecision {
  const checks = policy.gate.checks.map((check) =>
    check.kind === 'workflow_success'
      ? workflowCheck(check, state.runs, policy, now)
      : incidentCheck(check, state.openIncidents),
  );
  const evaluated_at = now.toISOString();
  if (checks.every((c) => c.status === 'pass')) return { result: 'pass', evaluated_at, checks };
  const override = activeOverride(state.overrides, now);
  return override
    ? { result: 'overridden', evaluated_at, checks, override }
    : { result: 'blocked', evaluated_at, checks };
}

/**
 * Does a run count for the release? Only runs of the release branch (`github.branch`; a run without a branch,
 * e.g. a schedule on some GitHub Enterprise versions, counts) and, when `github.repo` is set, of that repository:
 * a red feature branch must not block a release, and a green one must not unblock it.
 */
export function countsForRelease(run: GateRun, github: GitHubPolicy): boolean {
  if (github.repo && run.repo.toLowerCase() !== github.repo.toLowerCase()) return false;
  return run.head_branch === null || run.head_branch === github.branch;
}

type WorkflowCheck = Extract<GateCheck, { kind: 'workflow_success' }>;

function workflowCheck(
  check: WorkflowCheck,
  runs: GateRun[],
  policy: GatePolicyView,
  now: Date,
): GateCheckResult {
  const base = { id: check.id, title: check.title, kind: check.kind };
  const mine = runs
    .filter(
      (r) =>
        r.status === 'completed' &&
        r.completed_at !== null &&
        recordMatches(check.workflow, r) &&
        countsForRelease(r, policy.github),
    )
    .sort(newestFirst);
  const newest = mine[0];
  const where = `on ${policy.github.branch}${policy.github.repo ? ` of ${policy.github.repo}` : ''}`;
  if (!newest)
    return { ...base, status: 'fail', reason: `no completed run of ${check.workflow} recorded ${where}` };
  const link = newest.html_url ?? undefined;
  const at = newest.completed_at!;
  const ago = describeAge(now.getTime() - Date.parse(at));
  if (newest.conclusion !== 'success') {
    const lastSuccess = mine.find((r) => r.conclusion === 'success');
    const since = lastSuccess
      ? `; last success ${describeAge(now.getTime() - Date.parse(lastSuccess.completed_at!))} (${lastSuccess.completed_at})`
      : '; no success recorded';
    return {
      ...base,
      status: 'fail',
      reason: `newest run${runLabel(newest)} ${ago} (${at}) concluded ${newest.conclusion ?? 'without a conclusion'}${since}`,
      ...(link ? { link } : {}),
    };
  }
  if (check.max_age && expired(at, check.max_age, policy.calendar, now)) {
    return {
      ...base,
      status: 'fail',
      reason: `last success ${ago} (${at}), older than ${check.max_age.text}`,
      ...(link ? { link } : {}),
    };
  }
  return {
    ...base,
    status: 'pass',
    reason: `newest run${runLabel(newest)} succeeded ${ago} (${at})`,
    ...(link ? { link } : {}),
  };
}

type IncidentCheck = Extract<GateCheck, { kind: 'no_open_incidents' }>;

function incidentCheck(check: IncidentCheck, incidents: GateIncident[]): GateCheckResult {
  const base = { id: check.id, title: check.title, kind: check.kind };
  const open = incidents
    .filter((i) => i.severity === check.severity && i.status !== 'resolved')
    .sort((a, b) => a.id - b.id);
  const first = open[0];
  if (!first) return { ...base, status: 'pass', reason: `no open ${check.severity} incident` };
  const named = open.map((i) => `#${i.id} "${i.title}" (${i.status})`).join(', ');
  return {
    ...base,
    status: 'fail',
    reason: `${open.length} open ${check.severity} incident${open.length === 1 ? '' : 's'}: ${named}`,
    link: `/api/v1/incidents/${first.id}`,
  };
}

function newestFirst(a: GateRun, b: GateRun): number {
  // ISO-8601 UTC timestamps of one width compare as text; parse anyway so a provider's "Z" vs ".000Z" agree.
  const diff = Date.parse(b.completed_at!) - Date.parse(a.completed_at!);
  return diff !== 0 ? diff : b.run_id.localeCompare(a.run_id, 'en', { numeric: true });
}

function runLabel(run: GateRun): string {
  return run.run_number === null ? '' : ` #${run.run_number}`;
}

/** Is a success at `at` older than `maxAge` at `now`? Business durations count on the policy calendar. */
function expired(at: string, maxAge: PolicyDuration, calendar: BusinessCalendar, now: Date): boolean {
  const start = new Date(at);
  const deadline =
    maxAge.kind === 'wall'
      ? new Date(start.getTime() + maxAge.ms)
      : addBusinessDays(start, maxAge.days, calendar);
  return now.getTime() > deadline.getTime();
}

/** "8 days ago", "5 hours ago", "12 minutes ago": how old a piece of evidence is, for the reason text. */
export function describeAge(ms: number): string {
  if (ms < 0) return 'in the future';
  const minutes = Math.floor(ms / 60_000);
  const [n, unit] =
    minutes < 60
      ? [minutes, 'minute']
      : minutes < 48 * 60
        ? [Math.floor(minutes / 60), 'hour']
        : [Math.floor(minutes / 1440), 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

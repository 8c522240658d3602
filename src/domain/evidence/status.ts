/**
 * Evidence status: is each requirement of a period met, failed, missing, due soon or pending? A pure function of
 * (requirements, period, evidence, now). A period that ended without evidence stays `missing` for ever: the
 * ledger never forgets a hole, it only shows it.
 *
 *   met       a success inside the period (a workflow run that completed in it, or a record for it)
 *   failed    only failures inside the period (they are listed)
 *   missing   nothing, and the period is over
 *   due_soon  nothing yet, and the period ends within `due_soon`
 *   pending   nothing yet, with time left (also every requirement of a period that has not started)
 *
 * Workflow runs that were cancelled, skipped or neutral prove nothing either way and are ignored, as the GitHub
 * adapter does for alerts.
 */
import type { PolicyDuration } from '../policy/duration.js';
import type { EvidenceRequirement } from '../policy/evidence-schema.js';
import type { BusinessCalendar } from '../policy/schema.js';
import { addDuration } from '../sla/clocks.js';
import { parsePeriod, periodBounds, type Period } from './periods.js';
import { recordMatches } from './workflows.js';

export const EVIDENCE_STATES = ['met', 'failed', 'missing', 'due_soon', 'pending'] as const;
export type EvidenceState = (typeof EVIDENCE_STATES)[number];

/** A stored workflow run, as much of it as the ledger reads. */
export interface RunEvidence {
  run_id: string;
  run_number: number | null;
  repo: string;
  workflow_path: string;
  workflow_name: string;
  head_branch: string | null;
  conclusion: string | null;
  html_url: string | null;
  completed_at: string | null;
}

export interface RecordAttachment {
  id: number;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
}

/** An evidence record (manual note, weekly review, automated audit), as much of it as the ledger reads. */
export interface RecordEvidence {
  id: number;
  requirement_id: string;
  period: string;
  /** success | failure | recorded (a review that was held: counts as success) */
  status: string;
  summary: string;
  source: string;
  recorded_by: string;
  recorded_at: string;
  links: { href: string; text?: string }[];
  attachments?: RecordAttachment[];
  /** Free data; a string `note` (e.g. a weekly review's) is shown with the evidence. */
  data?: Record<string, unknown>;
}

/** One piece of evidence shown for a requirement. */
export interface EvidenceItem {
  type: 'workflow_run' | 'record';
  /** run id (workflow runs) or record id. */
  id: string;
  at: string;
  outcome: 'success' | 'failure';
  summary: string;
  /** The person's note (weekly reviews), if any. */
  note: string | null;
  /** The workflow run's page, or the record's first link. */
  url: string | null;
  links: { href: string; text?: string }[];
  attachments: RecordAttachment[];
}

export interface RequirementStatus {
  id: string;
  title: string;
  kind: EvidenceRequirement['kind'];
  workflow: string | null;
  state: EvidenceState;
  /** Successes inside the period, newest first. */
  evidence: EvidenceItem[];
  /** Failures inside the period, newest first (listed whatever the state). */
  failures: EvidenceItem[];
}

export interface PeriodStatus {
  period: string;
  kind: Period['kind'];
  start: string;
  end: string;
  /** The period is over: what is missing now stays missing. */
  closed: boolean;
  requirements: RequirementStatus[];
}

export interface EvidenceStatusInput {
  requirements: EvidenceRequirement[];
  period: Period | string;
  timeZone: string;
  runs: RunEvidence[];
  records: RecordEvidence[];
  now: Date;
  /** How close to the end of the period a requirement with no evidence is "due soon". */
  dueSoon: PolicyDuration;
  /** Needed when `dueSoon` is counted in business days. */
  calendar: BusinessCalendar;
}

const FAILING_CONCLUSIONS = new Set(['failure', 'timed_out', 'startup_failure']);

/** The status of every requirement of one period. */
export function evidenceStatus(input: EvidenceStatusInput): PeriodStatus {
  const period = typeof input.period === 'string' ? parsePeriod(input.period) : input.period;
  const { start, end } = periodBounds(period, input.timeZone);
  const now = input.now.getTime();
  const closed = now >= end.getTime();
  const started = now >= start.getTime();
  const dueSoon = addDuration(input.now, input.dueSoon, input.calendar).getTime() >= end.getTime();

  const inPeriod = (at: string | null) => {
    if (at === null) return false;
    const t = Date.parse(at);
    return t >= start.getTime() && t < end.getTime();
  };

  const requirements = input.requirements.map((req): RequirementStatus => {
    const items: EvidenceItem[] =
      req.kind === 'workflow'
        ? input.runs
            .filter((r) => inPeriod(r.completed_at) && recordMatches(req.workflow, r))
            .flatMap((r) => runItem(r))
        : input.records.filter((r) => r.period === period.text && recordFor(req, r)).flatMap(recordItem);
    items.sort(newestFirst);
    const evidence = items.filter((i) => i.outcome === 'success');
    const failures = items.filter((i) => i.outcome === 'failure');
    const state: EvidenceState =
      evidence.length > 0
        ? 'met'
        : failures.length > 0
          ? 'failed'
          : closed
            ? 'missing'
            : started && dueSoon
              ? 'due_soon'
              : 'pending';
    return {
      id: req.id,
      title: req.title,
      kind: req.kind,
      workflow: req.kind === 'workflow' ? req.workflow : null,
      state,
      evidence,
      failures,
    };
  });

  return {
    period: period.text,
    kind: period.kind,
    start: start.toISOString(),
    end: end.toISOString(),
    closed,
    requirements,
  };
}

/** Does a record count for a requirement? Its own id; for review requirements, any weekly incident review too. */
function recordFor(req: EvidenceRequirement, record: RecordEvidence): boolean {
  return record.requirement_id === req.id || (req.kind === 'review' && record.source === 'review');
}

function runItem(run: RunEvidence): EvidenceItem[] {
  const outcome =
    run.conclusion === 'success'
      ? 'success'
      : FAILING_CONCLUSIONS.has(run.conclusion ?? '')
        ? 'failure'
        : null;
  if (outcome === null || run.completed_at === null) return [];
  const number = run.run_number === null ? run.run_id : `#${run.run_number}`;
  return [
    {
      type: 'workflow_run',
      id: run.run_id,
      at: run.completed_at,
      outcome,
      summary: `${run.workflow_name} ${number} ${run.conclusion}${run.head_branch ? ` on ${run.head_branch}` : ''}`,
      note: null,
      url: run.html_url,
      links: run.html_url ? [{ href: run.html_url, text: `${run.workflow_name} ${number}` }] : [],
      attachments: [],
    },
  ];
}

function recordItem(record: RecordEvidence): EvidenceItem[] {
  const outcome =
    record.status === 'success' || record.status === 'recorded'
      ? 'success'
      : record.status === 'failure'
        ? 'failure'
        : null;
  if (outcome === null) return [];
  return [
    {
      type: 'record',
      id: String(record.id),
      at: record.recorded_at,
      outcome,
      summary: record.summary,
      note: typeof record.data?.note === 'string' ? record.data.note : null,
      url: record.links[0]?.href ?? null,
      links: record.links,
      attachments: record.attachments ?? [],
    },
  ];
}

function newestFirst(a: EvidenceItem, b: EvidenceItem): number {
  const byTime = Date.parse(b.at) - Date.parse(a.at);
  if (byTime !== 0) return byTime;
  return Number(b.id) - Number(a.id) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
}

/** True when a closed period has a required item missing or failed (`guardia evidence status` exits 1). */
export function hasClosedHoles(periods: PeriodStatus[]): boolean {
  return periods.some(
    (p) => p.closed && p.requirements.some((r) => r.state === 'missing' || r.state === 'failed'),
  );
}

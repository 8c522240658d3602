/**
 * EvidenceService: the evidence ledger. Records manual evidence (with attachments) and weekly incident reviews,
 * reports each requirement's status per period, and collects workflow runs from GitHub. Every record is written
 * with its audit entry in one transaction.
 *
 * Audit actions: `evidence.record` and `evidence.review` (subject `evidence:{id}`).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { slaClocks } from '../domain/incidents/incident.js';
import {
  currentPeriodOfKind,
  parsePeriod,
  periodBounds,
  weekOf,
  monthOf,
} from '../domain/evidence/periods.js';
import { evidenceStatus, type PeriodStatus } from '../domain/evidence/status.js';
import type { EvidenceRequirement } from '../domain/policy/evidence-schema.js';
import { resolveSecret } from '../domain/policy/load.js';
import type { Policy } from '../domain/policy/schema.js';
import { pollWorkflowRuns, policyWorkflows, type PollResult } from '../evidence/github-poller.js';
import type { GitHubClientOptions } from '../evidence/github-api.js';
import type { Clock } from '../shared/clock.js';
import { GuardiaError, invalidInput } from '../shared/errors.js';
import type { Store } from '../store/db.js';
import {
  getAttachment,
  insertAttachment,
  insertEvidenceRecord,
  listEvidenceRecords,
  listRunsCompletedBetween,
  type EvidenceRecord,
  type NewEvidenceRecord,
} from '../store/evidence-repo.js';
import { toIncident } from '../store/incidents-repo.js';
import type { AuditLog } from './audit.js';

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const MAX_ATTACHMENTS = 10;
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;.{0,200})?$/i;

export interface AttachmentInput {
  filename: string;
  content_type?: string;
  content: Buffer;
}

export interface ManualEvidenceInput {
  requirement_id: string;
  /** Defaults to the current period of the requirement's cadence (week or month). */
  period?: string;
  status: 'success' | 'failure';
  summary: string;
  links?: { href: string; text?: string }[];
  attachments?: AttachmentInput[];
  data?: Record<string, unknown>;
}

export interface EvidenceStatusReport {
  time_zone: string;
  periods: PeriodStatus[];
}

type Cadence = 'weekly' | 'monthly';

export class EvidenceService {
  constructor(
    private readonly store: Store,
    private readonly policy: Policy,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get timeZone(): string {
    return this.policy.calendar.timezone;
  }

  /** Records manual evidence for a `manual` requirement, its attachments and the audit entry, in one transaction. */
  async record(input: ManualEvidenceInput, actor: string): Promise<EvidenceRecord> {
    const { requirement, cadence } = this.requirement(input.requirement_id);
    if (requirement.kind !== 'manual') {
      const how =
        requirement.kind === 'workflow'
          ? `it is met by runs of the workflow "${requirement.workflow}" (collected by webhook and \`guardia evidence sync\`)`
          : 'it is met by the weekly incident review (`guardia review weekly` or POST /api/v1/evidence/reviews)';
      throw invalidInput([
        {
          field: 'requirement_id',
          message: `requirement "${requirement.id}" is not recorded by hand: ${how}`,
          expected: `a manual requirement: ${this.manualIds().join(', ') || '(none in the policy)'}`,
          received: requirement.id,
        },
      ]);
    }
    const period = this.periodFor(input.period, cadence);
    const attachments = (input.attachments ?? []).map(checkAttachment);
    if (attachments.length > MAX_ATTACHMENTS)
      throw invalidInput([
        {
          field: 'attachments',
          message: `at most ${MAX_ATTACHMENTS} attachments per record`,
          received: `${attachments.length}`,
        },
      ]);
    return this.insert(
      {
        requirement_id: requirement.id,
        period,
        status: input.status,
        summary: input.summary,
        source: 'manual',
        recorded_by: actor,
        recorded_at: this.clock.now().toISOString(),
        links: input.links ?? [],
        data: input.data ?? {},
      },
      attachments,
      'evidence.record',
    );
  }

  /**
   * Records the weekly incident review for `week` (default: the current week): a snapshot of every incident that
   * started in that week — id, title, severity, status and SLA outcomes — goes into the record, and the review is
   * recorded even when there were none ("No incidents").
   */
  async recordWeeklyReview(week: string | undefined, note: string, actor: string): Promise<EvidenceRecord> {
    const period = this.periodFor(week, 'weekly', 'week');
    const now = this.clock.now();
    const { start, end } = periodBounds(period, this.timeZone);
    const rows = await this.store.db
      .selectFrom('incidents')
      .selectAll()
      .where('started_at', '>=', start.toISOString())
      .where('started_at', '<', end.toISOString())
      .orderBy('started_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    const incidents = rows.map(toIncident).map((i) => ({
      id: i.id,
      title: i.title,
      severity: i.severity,
      status: i.status,
      started_at: i.started_at,
      acknowledged_at: i.acknowledged_at,
      mitigated_at: i.mitigated_at,
      resolved_at: i.resolved_at,
      sla: slaClocks(i, now),
    }));
    const reviewId = this.policy.evidence.weekly.find((r) => r.kind === 'review')?.id ?? 'incident-review';
    return this.insert(
      {
        requirement_id: reviewId,
        period,
        status: 'recorded',
        summary: reviewSummary(incidents),
        source: 'review',
        recorded_by: actor,
        recorded_at: now.toISOString(),
        links: [],
        data: { note, week: period, incidents },
      },
      [],
      'evidence.review',
    );
  }

  /** The status of each requirement in each period (default: the current week and the current month). */
  async status(periods?: string[]): Promise<EvidenceStatusReport> {
    const now = this.clock.now();
    const wanted =
      periods && periods.length > 0 ? periods : [weekOf(now, this.timeZone), monthOf(now, this.timeZone)];
    const out: PeriodStatus[] = [];
    for (const text of wanted) {
      const period = parsePeriod(text);
      const { start, end } = periodBounds(period, this.timeZone);
      const [runs, records] = await Promise.all([
        listRunsCompletedBetween(this.store.db, {
          start: start.toISOString(),
          end: end.toISOString(),
          branch: this.policy.github.branch,
          ...(this.policy.github.repo ? { repo: this.policy.github.repo } : {}),
        }),
        listEvidenceRecords(this.store.db, { periods: [period.text] }),
      ]);
      out.push(
        evidenceStatus({
          requirements: period.kind === 'week' ? this.policy.evidence.weekly : this.policy.evidence.monthly,
          period,
          timeZone: this.timeZone,
          runs,
          records,
          now,
          dueSoon: this.policy.evidence.due_soon,
          calendar: this.policy.calendar,
        }),
      );
    }
    return { time_zone: this.timeZone, periods: out };
  }

  /** Records of some periods (all when none given), oldest first. */
  async list(filter: { periods?: string[]; requirement_id?: string } = {}): Promise<EvidenceRecord[]> {
    return listEvidenceRecords(this.store.db, {
      ...filter,
      ...(filter.periods ? { periods: filter.periods.map((p) => parsePeriod(p).text) } : {}),
    });
  }

  /** One attachment with its bytes. */
  async attachment(id: number) {
    const found = await getAttachment(this.store.db, id);
    if (!found) throw new GuardiaError('not_found', `no evidence attachment with id ${id}`);
    return found;
  }

  /** Collects the completed runs of the policy's workflows from GitHub (see src/evidence/github-poller.ts). */
  async sync(
    options: { since: Date; progress?: (message: string) => void } & Omit<GitHubClientOptions, 'token'>,
  ): Promise<PollResult> {
    const { repo, api_url, branch, token } = this.policy.github;
    if (!repo)
      throw new GuardiaError(
        'invalid_input',
        'the policy names no GitHub repository: set github.repo ("owner/name") in guardia.yaml',
      );
    const secret = resolveSecret(token, this.env);
    if (!secret)
      options.progress?.(
        `${token.env} is not set: calling GitHub without a token (public repositories only, 60 requests/hour)`,
      );
    return pollWorkflowRuns(this.store.db, {
      ...options,
      ...(secret ? { token: secret } : {}),
      apiUrl: api_url,
      repo,
      branch,
      workflows: policyWorkflows(this.policy),
      now: () => this.clock.now(),
    });
  }

  private async insert(
    record: NewEvidenceRecord,
    attachments: Required<AttachmentInput>[],
    action: string,
  ): Promise<EvidenceRecord> {
    const id = await this.store.db.transaction().execute(async (trx) => {
      const recordId = await insertEvidenceRecord(trx, record);
      const stored = [];
      for (const a of attachments) {
        const sha256 = crypto.createHash('sha256').update(a.content).digest('hex');
        const attachmentId = await insertAttachment(trx, recordId, { ...a, sha256, size: a.content.length });
        stored.push({ id: attachmentId, filename: a.filename, size: a.content.length, sha256 });
      }
      await this.audit.append(
        {
          actor: record.recorded_by,
          action,
          subject: `evidence:${recordId}`,
          data: {
            requirement_id: record.requirement_id,
            period: record.period,
            status: record.status,
            summary: record.summary,
            links: record.links,
            attachments: stored,
          },
        },
        trx,
      );
      return recordId;
    });
    const [saved] = await listEvidenceRecords(this.store.db, { ids: [id] });
    if (!saved) throw new GuardiaError('internal', `evidence record ${id} vanished after being written`);
    return saved;
  }

  private requirement(id: string): { requirement: EvidenceRequirement; cadence: Cadence } {
    for (const cadence of ['weekly', 'monthly'] as const) {
      const requirement = this.policy.evidence[cadence].find((r) => r.id === id);
      if (requirement) return { requirement, cadence };
    }
    throw invalidInput([
      {
        field: 'requirement_id',
        message: `no evidence requirement "${id}" in the policy`,
        expected: `a manual requirement: ${this.manualIds().join(', ') || '(none in the policy)'}`,
        received: id,
      },
    ]);
  }

  private manualIds(): string[] {
    return [...this.policy.evidence.weekly, ...this.policy.evidence.monthly]
      .filter((r) => r.kind === 'manual')
      .map((r) => r.id);
  }

  /** A period of the cadence's kind that has started (late evidence for a past period is allowed). */
  private periodFor(text: string | undefined, cadence: Cadence, field = 'period'): string {
    const kind = cadence === 'weekly' ? 'week' : 'month';
    const now = this.clock.now();
    if (text === undefined) return currentPeriodOfKind(kind, now, this.timeZone);
    const period = parsePeriod(text, field);
    if (period.kind !== kind)
      throw invalidInput([
        {
          field,
          message: `a ${cadence} requirement is recorded for a ${kind}`,
          expected: kind === 'week' ? 'an ISO week like "2026-W48"' : 'a month like "2026-11"',
          received: text,
        },
      ]);
    if (periodBounds(period, this.timeZone).start.getTime() > now.getTime())
      throw invalidInput([
        {
          field,
          message: `${period.text} has not started yet: evidence is recorded for the past or the present`,
          received: text,
        },
      ]);
    return period.text;
  }
}

function reviewSummary(incidents: { severity: string; sla: ReturnType<typeof slaClocks> }[]): string {
  if (incidents.length === 0) return 'No incidents';
  const bySeverity = new Map<string, number>();
  for (const i of incidents) bySeverity.set(i.severity, (bySeverity.get(i.severity) ?? 0) + 1);
  const severities = [...bySeverity.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([sev, n]) => `${n} ${sev}`)
    .join(', ');
  const breaches = incidents.filter(
    (i) => i.sla.ack.state === 'breached' || i.sla.mitigate.state === 'breached',
  ).length;
  return `${incidents.length} incident${incidents.length === 1 ? '' : 's'} (${severities}); ${breaches === 0 ? 'all SLA targets met or pending' : `${breaches} with an SLA breach`}`;
}

/** Validates an attachment: a plain file name, a sane content type, at most 10 MiB. */
function checkAttachment(a: AttachmentInput, index: number): Required<AttachmentInput> {
  const field = `attachments.${index}`;
  const filename = a.filename.trim();
  if (
    filename === '' ||
    filename.length > 255 ||
    filename !== path.basename(filename) ||
    /[\\/]/.test(filename) ||
    [...filename].some((c) => c.charCodeAt(0) < 0x20) ||
    filename === '.' ||
    filename === '..'
  )
    throw invalidInput([
      {
        field: `${field}.filename`,
        message: 'expected a plain file name (no directories, at most 255 characters)',
        received: JSON.stringify(a.filename),
      },
    ]);
  const contentType = (a.content_type ?? 'application/octet-stream').trim();
  if (!CONTENT_TYPE.test(contentType))
    throw invalidInput([
      {
        field: `${field}.content_type`,
        message: 'expected a media type like "application/pdf"',
        received: JSON.stringify(a.content_type),
      },
    ]);
  if (a.content.length > MAX_ATTACHMENT_BYTES)
    throw new GuardiaError(
      'payload_too_large',
      `${field} (${filename}) is ${a.content.length} bytes; the limit is 10 MiB`,
      {
        issues: [{ field, message: 'at most 10 MiB', received: `${a.content.length} bytes` }],
      },
    );
  if (a.content.length === 0)
    throw invalidInput([{ field, message: 'the file is empty', received: '0 bytes' }]);
  return { filename, content_type: contentType, content: a.content };
}

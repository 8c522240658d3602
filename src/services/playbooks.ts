/**
 * What playbooks leave on an incident: a run's findings (one timeline entry, "playbook login: 2 fail, 1 warn,
 * 9 pass", with the findings' summary as its data) and the RCA the runbook asks for after a 500 ("Documentar RCA
 * con causa raíz + acción preventiva"), kept on the incident (`details.rca`) and on its timeline.
 */
import { z } from 'zod';
import { overallStatus, type PlaybookReport } from '../playbooks/check.js';
import { counts, countsLine } from '../playbooks/format.js';
import type { Clock } from '../shared/clock.js';
import { GuardiaError } from '../shared/errors.js';
import type { Store } from '../store/db.js';
import {
  appendTimeline,
  getIncident,
  getTimeline,
  updateIncident,
  type Incident,
  type TimelineEvent,
} from '../store/incidents-repo.js';

const PLAYBOOK_NAMES = ['login', 'slow', 'errors', 'tenant-indexes', 'tenant-performance'] as const;
const STATUSES = ['pass', 'warn', 'fail', 'skip'] as const;

const bilingual = z.object({ en: z.string().max(8192), es: z.string().max(8192) });

const findingSchema = z.object({
  id: z.string().min(1).max(200),
  playbook: z.enum(PLAYBOOK_NAMES),
  group: bilingual,
  title: bilingual,
  status: z.enum(STATUSES),
  summary: bilingual,
  evidence: z.record(z.string(), z.unknown()).default({}),
  mitigation: bilingual.optional(),
  duration_ms: z.number().min(0),
});

/** A report as `guardia diagnose --json` prints it (snake_case); its status must agree with its findings. Parses
 *  to the internal PlaybookReport. */
export const playbookReportSchema = z
  .object({
    playbook: z.enum(PLAYBOOK_NAMES),
    started_at: z.iso.datetime({ offset: true }),
    finished_at: z.iso.datetime({ offset: true }),
    findings: z.array(findingSchema).max(1000),
    status: z.enum(['pass', 'warn', 'fail']),
  })
  .superRefine((report, ctx) => {
    const worst = overallStatus(report.findings);
    if (report.status !== worst)
      ctx.addIssue({
        code: 'custom',
        path: ['status'],
        message: `the findings make this report "${worst}", not "${report.status}"`,
      });
    report.findings.forEach((f, i) => {
      if (f.playbook !== report.playbook)
        ctx.addIssue({
          code: 'custom',
          path: ['findings', i, 'playbook'],
          message: `a finding of playbook "${f.playbook}" in a report of "${report.playbook}"`,
        });
    });
  })
  .transform((r): PlaybookReport => ({
    playbook: r.playbook,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    findings: r.findings.map(({ duration_ms, ...f }) => ({ ...f, durationMs: duration_ms })),
  }));

export const rcaBodySchema = z.object({
  root_cause: z.string().trim().min(1, 'say what caused the incident').max(4096),
  preventive_action: z.string().trim().min(1, 'say what will stop it from happening again').max(4096),
});
export type RcaInput = z.output<typeof rcaBodySchema>;

export interface Rca extends RcaInput {
  recorded_by: string;
  recorded_at: string;
}

export class PlaybookService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Records a playbook run on an incident's timeline; returns the entry. */
  async attachReport(incidentId: number, report: PlaybookReport, actor: string): Promise<TimelineEvent> {
    const at = this.clock.now().toISOString();
    const message = `playbook ${report.playbook}: ${countsLine(report.findings)}`;
    const data = {
      playbook: report.playbook,
      status: report.status,
      started_at: report.startedAt,
      finished_at: report.finishedAt,
      counts: counts(report.findings),
      // Evidence stays with whoever ran the playbook (--json); the timeline keeps what was found and what to do.
      findings: report.findings.map((f) => ({
        id: f.id,
        group: f.group,
        title: f.title,
        status: f.status,
        summary: f.summary,
        ...(f.mitigation ? { mitigation: f.mitigation } : {}),
        duration_ms: f.durationMs,
      })),
    };
    return this.store.db.transaction().execute(async (trx) => {
      if (!(await getIncident(trx, incidentId))) throw notFound(incidentId);
      await appendTimeline(trx, incidentId, [{ at, actor, kind: 'playbook', message, data }]);
      const timeline = await getTimeline(trx, incidentId);
      return timeline[timeline.length - 1]!;
    });
  }

  /** Records (or replaces) the incident's RCA: root cause and preventive action. */
  async recordRca(incidentId: number, input: RcaInput, actor: string): Promise<Incident> {
    const now = this.clock.now();
    const at = now.toISOString();
    const rca: Rca = { ...input, recorded_by: actor, recorded_at: at };
    await this.store.db.transaction().execute(async (trx) => {
      const incident = await getIncident(trx, incidentId);
      if (!incident) throw notFound(incidentId);
      const replaced = incident.details.rca !== undefined;
      await updateIncident(trx, incidentId, { details: { ...incident.details, rca } }, at);
      await appendTimeline(trx, incidentId, [
        {
          at,
          actor,
          kind: 'rca',
          message: `RCA ${replaced ? 'updated' : 'recorded'} by ${actor}: root cause: ${input.root_cause}; preventive action: ${input.preventive_action}`,
          data: { root_cause: input.root_cause, preventive_action: input.preventive_action },
        },
      ]);
    });
    const incident = await getIncident(this.store.db, incidentId);
    if (!incident) throw notFound(incidentId);
    return incident;
  }

  /** Fails with not_found unless the incident exists (so a playbook run can refuse before it starts). */
  async requireIncident(incidentId: number): Promise<void> {
    if (!(await getIncident(this.store.db, incidentId))) throw notFound(incidentId);
  }
}

function notFound(id: number): GuardiaError {
  return new GuardiaError('not_found', `incident ${id} not found`);
}

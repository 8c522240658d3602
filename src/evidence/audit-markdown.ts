/**
 * The monthly audit README (`ops/audit/YYYY-MM/README.md`) as Markdown, from already-loaded data. Pure and
 * deterministic: no clock, every list in a stable order, times exactly as stored (UTC ISO-8601), dates in the
 * policy's zone. The same data gives the same bytes.
 *
 * States that still depend on time passing are shown coarsely so that re-exporting the same data does not
 * change the file: an open period's unmet requirement is "pending" (never "due soon").
 */
import { periodDates } from '../domain/evidence/periods.js';
import type { EvidenceItem, PeriodStatus, RequirementStatus } from '../domain/evidence/status.js';
import type { SlaClocks } from '../domain/incidents/incident.js';

export interface ExportIncident {
  id: number;
  title: string;
  severity: string;
  status: string;
  started_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  mitigated_at: string | null;
  mitigated_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  sla: SlaClocks;
  timeline: { at: string; actor: string; kind: string; message: string }[];
}

export interface ExportDecision {
  id: number;
  decided_at: string;
  result: string;
  source: string;
  actor: string;
  override_id: number | null;
  failed: { id: string; reason: string }[];
}

export interface ExportOverride {
  id: number;
  reason: string;
  requested_by: string;
  approved_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

export interface ExportAuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  hash: string;
}

export interface ExportAttachment {
  record_id: number;
  filename: string;
  /** Path inside the month folder, e.g. "attachments/12-access-review.pdf". */
  path: string;
  size: number;
  sha256: string;
}

export interface AuditExportData {
  month: string;
  timeZone: string;
  repo: string | null;
  branch: string;
  monthly: PeriodStatus;
  weekly: PeriodStatus[];
  incidents: ExportIncident[];
  decisions: ExportDecision[];
  overrides: ExportOverride[];
  audit: ExportAuditEntry[];
  /** The newest audit entry at or before the end of the month (the chain head the month ends on). */
  chainHead: { id: number; hash: string } | null;
  attachments: ExportAttachment[];
}

/** Renders the README. */
export function renderAuditReadme(d: AuditExportData): string {
  const { first, last } = periodDates(d.month);
  const out: string[] = [
    `# Audit evidence — ${d.month}`,
    '',
    `- Month: ${d.month} (${first} → ${last}, time zone ${d.timeZone})`,
    `- Repository: ${d.repo ? `${d.repo}, branch ${d.branch}` : `(github.repo not set in the policy), branch ${d.branch}`}`,
    `- Newest data in this export: ${newestData(d) ?? '(none)'}`,
    '- Exported by Guardia from its store (`guardia audit export`). The same data gives the same bytes;',
    '  `MANIFEST.sha256` holds the SHA-256 of every other file (`sha256sum -c MANIFEST.sha256`).',
    '- A requirement of a period that has not ended yet shows as "pending"; a closed period keeps its holes.',
    '',
    '## Summary',
    '',
    '| Period | Met | Failed | Missing | Pending |',
    '| --- | --- | --- | --- | --- |',
    ...[d.monthly, ...d.weekly].map((p) => {
      const n = (s: string) => p.requirements.filter((r) => exportState(r, p) === s).length;
      return `| ${p.period}${p.closed ? '' : ' (open)'} | ${n('met')} | ${n('FAILED')} | ${n('MISSING')} | ${n('pending')} |`;
    }),
    '',
    `## Monthly evidence — ${d.month}`,
    '',
    ...evidenceTable(d.monthly, d.attachments),
    '## Weekly evidence',
    '',
  ];
  for (const week of d.weekly) {
    const dates = periodDates(week.period);
    out.push(`### ${week.period} (${dates.first} → ${dates.last})${week.closed ? '' : ' — open'}`, '');
    out.push(...evidenceTable(week, d.attachments));
  }
  out.push(...incidentSection(d), ...gateSection(d), ...auditSection(d), ...attachmentSection(d));
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

function exportState(r: RequirementStatus, p: PeriodStatus): string {
  if (r.state === 'missing' || r.state === 'failed') return r.state.toUpperCase();
  if (r.state === 'met') return 'met';
  return p.closed ? 'MISSING' : 'pending';
}

function evidenceTable(p: PeriodStatus, attachments: ExportAttachment[]): string[] {
  if (p.requirements.length === 0) return ['No requirements of this cadence in the policy.', ''];
  const rows = p.requirements.map((r) => {
    const items = [...r.evidence, ...r.failures].sort(
      (a, b) => Date.parse(a.at) - Date.parse(b.at) || compare(a.type, b.type) || Number(a.id) - Number(b.id),
    );
    const evidence = items.length === 0 ? '—' : items.map((i) => itemText(i, attachments)).join('<br>');
    return `| ${cell(r.title)} (\`${r.id}\`) | ${exportState(r, p)} | ${evidence} |`;
  });
  return ['| Requirement | State | Evidence |', '| --- | --- | --- |', ...rows, ''];
}

function itemText(i: EvidenceItem, attachments: ExportAttachment[]): string {
  if (i.type === 'workflow_run') {
    const label = cell(i.summary);
    return `${i.at} ${i.url ? `[${label}](${url(i.url)})` : label}`;
  }
  const links = i.links.map((l) => `[${cell(l.text ?? l.href)}](${url(l.href)})`);
  const files = attachments
    .filter((a) => String(a.record_id) === i.id)
    .map((a) => `[${cell(a.filename)}](${url(a.path)})`);
  const extra = [...links, ...files];
  const note = i.note ? ` (note: ${cell(i.note)})` : '';
  return `${i.at} record ${i.id} (${i.outcome}): ${cell(i.summary)}${note}${extra.length ? ` — ${extra.join(', ')}` : ''}`;
}

function incidentSection(d: AuditExportData): string[] {
  const out = [`## Incidents started in ${d.month}`, ''];
  if (d.incidents.length === 0) return [...out, 'No incidents started this month.', ''];
  out.push(
    '| Incident | Severity | Status | Started | Acknowledgement | Mitigation |',
    '| --- | --- | --- | --- | --- | --- |',
    ...d.incidents.map(
      (i) =>
        `| #${i.id} ${cell(i.title)} | ${i.severity} | ${i.status} | ${i.started_at} | ${clock(i.sla.ack)} | ${clock(i.sla.mitigate)} |`,
    ),
    '',
  );
  for (const i of d.incidents) {
    out.push(`### Incident #${i.id} — [${i.severity}] ${cell(i.title)}`, '');
    out.push(
      `- Status: ${i.status}`,
      `- Started: ${i.started_at}`,
      `- Acknowledged: ${i.acknowledged_at ? `${i.acknowledged_at} by ${cell(i.acknowledged_by ?? '')}` : 'no'} — SLA ${clock(i.sla.ack)}`,
      `- Mitigated: ${i.mitigated_at ? `${i.mitigated_at} by ${cell(i.mitigated_by ?? '')}` : 'no'} — SLA ${clock(i.sla.mitigate)}`,
      `- Resolved: ${i.resolved_at ? `${i.resolved_at} by ${cell(i.resolved_by ?? '')}` : 'no'}`,
      '',
      '| At | Actor | Event | Message |',
      '| --- | --- | --- | --- |',
      ...i.timeline.map((e) => `| ${e.at} | ${cell(e.actor)} | ${cell(e.kind)} | ${cell(e.message)} |`),
      '',
    );
  }
  return out;
}

function clock(c: SlaClocks['ack']): string {
  return `${c.state} (due ${c.due_at})`;
}

function gateSection(d: AuditExportData): string[] {
  const out = ['## Release gate', '', `Decisions recorded in ${d.month}: ${d.decisions.length}.`, ''];
  const counts = new Map<string, number>();
  for (const x of d.decisions) counts.set(x.result, (counts.get(x.result) ?? 0) + 1);
  if (counts.size > 0) {
    out.push('| Result | Decisions |', '| --- | --- |');
    for (const [result, n] of [...counts.entries()].sort(([a], [b]) => compare(a, b)))
      out.push(`| ${result} | ${n} |`);
    out.push('');
  }
  const notPassed = d.decisions.filter((x) => x.result !== 'pass');
  if (notPassed.length > 0) {
    out.push(
      '### Blocked and overridden decisions',
      '',
      '| Decision | At | Result | Source | Actor | Failing checks |',
    );
    out.push('| --- | --- | --- | --- | --- | --- |');
    for (const x of notPassed)
      out.push(
        `| ${x.id} | ${x.decided_at} | ${x.result}${x.override_id === null ? '' : ` (override ${x.override_id})`} | ${cell(x.source)} | ${cell(x.actor)} | ${x.failed.map((f) => `\`${cell(f.id)}\`: ${cell(f.reason)}`).join('<br>') || '—'} |`,
      );
    out.push('');
  }
  out.push('### Overrides', '');
  if (d.overrides.length === 0) return [...out, 'No override was in force this month.', ''];
  out.push('| Override | Created | Expires | Requested by | Approved by | Reason | Revoked |');
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const o of d.overrides)
    out.push(
      `| ${o.id} | ${o.created_at} | ${o.expires_at} | ${cell(o.requested_by)} | ${cell(o.approved_by)} | ${cell(o.reason)} | ${o.revoked_at ? `${o.revoked_at} by ${cell(o.revoked_by ?? '')}` : 'no'} |`,
    );
  return [...out, ''];
}

function auditSection(d: AuditExportData): string[] {
  const head = d.chainHead ? `\`${d.chainHead.hash}\` (entry ${d.chainHead.id})` : '(empty log)';
  const out = [
    '## Audit log',
    '',
    `Entries recorded in ${d.month}: ${d.audit.length}. Chain head at the end of the month: ${head}.`,
    'Each hash covers the previous hash and the entry; `guardia audit verify` re-checks the whole chain.',
    '',
  ];
  if (d.audit.length === 0) return out;
  out.push('| Entry | At | Actor | Action | Subject | Hash |', '| --- | --- | --- | --- | --- | --- |');
  for (const e of d.audit)
    out.push(
      `| ${e.id} | ${e.at} | ${cell(e.actor)} | ${cell(e.action)} | ${cell(e.subject)} | \`${e.hash}\` |`,
    );
  return [...out, ''];
}

function attachmentSection(d: AuditExportData): string[] {
  const out = ['## Attachments', ''];
  if (d.attachments.length === 0) out.push('No attachments.');
  else {
    out.push('| File | Record | Bytes | SHA-256 |', '| --- | --- | --- | --- |');
    for (const a of d.attachments)
      out.push(`| [${cell(a.path)}](${url(a.path)}) | ${a.record_id} | ${a.size} | \`${a.sha256}\` |`);
  }
  out.push(
    '',
    'Screenshots of the console pages are not included: they need the web console (a later issue).',
    '',
  );
  return out;
}

/** The newest timestamp among the exported data (a deterministic stand-in for "generated at"). */
function newestData(d: AuditExportData): string | undefined {
  const times = [
    ...[d.monthly, ...d.weekly].flatMap((p) =>
      p.requirements.flatMap((r) => [...r.evidence, ...r.failures].map((i) => i.at)),
    ),
    ...d.incidents.flatMap((i) => i.timeline.map((e) => e.at)),
    ...d.decisions.map((x) => x.decided_at),
    ...d.overrides.flatMap((o) => [o.created_at, ...(o.revoked_at ? [o.revoked_at] : [])]),
    ...d.audit.map((e) => e.at),
  ];
  return times.reduce<string | undefined>(
    (a, b) => (a === undefined || Date.parse(b) > Date.parse(a) ? b : a),
    undefined,
  );
}

/** Code-unit order: the same on every machine, whatever its locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Text safe inside a Markdown table cell: no pipes or line breaks, no raw HTML. */
function cell(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|');
}

/** A link target: spaces and parentheses escaped so the Markdown link cannot break. */
function url(href: string): string {
  return href.replace(/ /g, '%20').replace(/\(/g, '%28').replace(/\)/g, '%29');
}

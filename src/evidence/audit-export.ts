/**
 * The monthly audit export (runbook "Audit storage"): `guardia audit export --month 2026-11 --out ops/audit`
 * writes `ops/audit/2026-11/README.md`, the month's evidence attachments under `attachments/`, and
 * `MANIFEST.sha256` (the SHA-256 of every other file, sorted by path, in `sha256sum -c` format).
 *
 * The same data gives the same bytes: nothing here prints the current time, every list has a stable order, and
 * the `attachments/` folder is rewritten from scratch so a file from an earlier export cannot linger. Exporting
 * writes no audit entry, so exporting twice does not change the month it exports.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parsePeriod, periodBounds, weeksOfMonth } from '../domain/evidence/periods.js';
import { slaClocks } from '../domain/incidents/incident.js';
import type { AppServices } from '../server/context.js';
import { invalidInput } from '../shared/errors.js';
import { getAttachment } from '../store/evidence-repo.js';
import { getTimeline, toIncident } from '../store/incidents-repo.js';
import {
  renderAuditReadme,
  type AuditExportData,
  type ExportAttachment,
  type ExportDecision,
} from './audit-markdown.js';

export interface ExportedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface AuditExportResult {
  month: string;
  /** The month folder, e.g. ops/audit/2026-11. */
  dir: string;
  files: ExportedFile[];
}

/** Loads everything the month's README shows, plus the attachments' bytes. */
export async function loadAuditExport(
  s: AppServices,
  monthText: string,
): Promise<{ data: AuditExportData; contents: Map<string, Buffer> }> {
  const month = parsePeriod(monthText, 'month');
  if (month.kind !== 'month')
    throw invalidInput([
      {
        field: 'month',
        message: 'expected a month',
        expected: 'a month like "2026-11"',
        received: monthText,
      },
    ]);
  const tz = s.policy.calendar.timezone;
  const { start, end } = periodBounds(month, tz);
  const since = start.toISOString();
  const until = end.toISOString();
  const now = s.clock.now();
  const db = s.store.db;

  const weeks = weeksOfMonth(month);
  const status = await s.evidence.status([month.text, ...weeks]);
  const [monthly, ...weekly] = status.periods;

  const incidentRows = await db
    .selectFrom('incidents')
    .selectAll()
    .where('started_at', '>=', since)
    .where('started_at', '<', until)
    .orderBy('started_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
  const incidents = [];
  for (const i of incidentRows.map(toIncident)) {
    const timeline = (await getTimeline(db, i.id)).map((e) => ({
      at: e.at,
      actor: e.actor,
      kind: e.kind,
      message: e.message,
    }));
    incidents.push({ ...i, id: Number(i.id), sla: slaClocks(i, now), timeline });
  }

  const decisions = (
    await db
      .selectFrom('gate_decisions')
      .selectAll()
      .where('decided_at', '>=', since)
      .where('decided_at', '<', until)
      .orderBy('decided_at', 'asc')
      .orderBy('id', 'asc')
      .execute()
  ).map((d): ExportDecision => ({
    id: Number(d.id),
    decided_at: d.decided_at,
    result: d.result,
    source: d.source,
    actor: d.actor,
    override_id: d.override_id === null ? null : Number(d.override_id),
    failed: failedChecks(d.checks),
  }));
  // Every override in force at some moment of the month, even one created the month before.
  const overrides = (
    await db
      .selectFrom('gate_overrides')
      .selectAll()
      .where('created_at', '<', until)
      .where('expires_at', '>', since)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute()
  ).map((o) => ({ ...o, id: Number(o.id) }));

  const audit = (await s.audit.list({ since, until })).map((e) => ({
    id: e.id,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    hash: e.hash,
  }));
  const head = await db
    .selectFrom('audit_log')
    .select(['id', 'hash'])
    .where('at', '<', until)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();

  const recordIds = new Set<number>();
  for (const p of status.periods)
    for (const r of p.requirements)
      for (const item of [...r.evidence, ...r.failures])
        if (item.type === 'record') recordIds.add(Number(item.id));
  const records = await s.evidence.list({ periods: [month.text, ...weeks] });
  const attachments: ExportAttachment[] = [];
  const contents = new Map<string, Buffer>();
  const used = new Set<string>();
  for (const record of records.filter((r) => recordIds.has(r.id))) {
    for (const a of record.attachments) {
      let file = `attachments/${record.id}-${safeName(a.filename)}`;
      if (used.has(file)) file = `attachments/${record.id}-${a.id}-${safeName(a.filename)}`;
      used.add(file);
      const stored = await getAttachment(db, a.id);
      if (!stored) continue;
      contents.set(file, stored.content);
      attachments.push({
        record_id: record.id,
        filename: a.filename,
        path: file,
        size: a.size,
        sha256: a.sha256,
      });
    }
  }
  attachments.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  return {
    data: {
      month: month.text,
      timeZone: tz,
      repo: s.policy.github.repo ?? null,
      branch: s.policy.github.branch,
      monthly: monthly!,
      weekly,
      incidents,
      decisions,
      overrides,
      audit,
      chainHead: head ? { id: Number(head.id), hash: head.hash } : null,
      attachments,
    },
    contents,
  };
}

/** Writes the month's folder under `outDir` and returns what it wrote. */
export async function exportAuditMonth(
  s: AppServices,
  month: string,
  outDir: string,
): Promise<AuditExportResult> {
  const { data, contents } = await loadAuditExport(s, month);
  const dir = path.join(outDir, data.month);
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, 'attachments'), { recursive: true, force: true });
  const files = new Map<string, Buffer>([
    ['README.md', Buffer.from(renderAuditReadme(data), 'utf8')],
    ...contents,
  ]);
  const written: ExportedFile[] = [];
  for (const [rel, content] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
    written.push({
      path: rel,
      size: content.length,
      sha256: crypto.createHash('sha256').update(content).digest('hex'),
    });
  }
  const manifest = written.map((f) => `${f.sha256}  ${f.path}\n`).join('');
  fs.writeFileSync(path.join(dir, 'MANIFEST.sha256'), manifest);
  return { month: data.month, dir, files: written };
}

/** The failing checks of a stored decision (`checks` is the gate's JSON list of check results). */
function failedChecks(json: string): { id: string; reason: string }[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [{ id: '?', reason: 'unreadable check list' }];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((c: unknown) => {
    const check = c as { id?: unknown; status?: unknown; reason?: unknown };
    return check.status === 'fail'
      ? [{ id: String(check.id ?? '?'), reason: typeof check.reason === 'string' ? check.reason : '' }]
      : [];
  });
}

/** A file name safe on every file system and in a Markdown link. */
function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 150) || 'file';
}

/**
 * `guardia evidence status|record|sync` and `guardia review weekly`: the evidence ledger from a terminal.
 *
 * `evidence status` exits 1 when a CLOSED period has a requirement missing or failed (a hole that can no longer
 * be filled on time), 0 otherwise — an open period that is still pending or due soon is not a failure yet.
 * `evidence sync` exits 2 when GitHub cannot be read (including a rate limit longer than --max-wait).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { periodDates } from '../domain/evidence/periods.js';
import { hasClosedHoles, type PeriodStatus, type RequirementStatus } from '../domain/evidence/status.js';
import { parseDuration } from '../domain/policy/duration.js';
import { presentRecord, recordBodySchema, reviewBodySchema } from '../server/routes/evidence.js';
import { MAX_ATTACHMENT_BYTES } from '../services/evidence.js';
import { GuardiaError, invalidInput } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { cliActor, withServices, withStoreOptions, type StoreOptions } from './context.js';
import { printJson } from './output.js';

type JsonOption = { json: boolean };

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const CONTENT_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.html': 'text/html; charset=utf-8',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

export function registerEvidenceCommands(program: Command): void {
  const evidence = program
    .command('evidence')
    .description('the evidence ledger: weekly and monthly requirements, manual records, GitHub sync');

  withStoreOptions(
    evidence
      .command('status')
      .description(
        'each requirement met / failed / missing / due soon / pending (exit 1: a closed period has a hole)',
      )
      .option(
        '--period <period>',
        'an ISO week "2026-W48" or a month "2026-11" (repeatable; default: current week and month)',
        collect,
        [],
      )
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & JsonOption & { period: string[] }) => {
    await withServices(options, async (s) => {
      const report = await s.evidence.status(options.period);
      if (options.json) printJson(report);
      else process.stdout.write(report.periods.map((p) => describePeriod(p, report.time_zone)).join('\n'));
      if (hasClosedHoles(report.periods)) {
        if (!options.json) process.stdout.write('\nA closed period has missing or failed evidence.\n');
        process.exitCode = 1;
      }
    });
  });

  withStoreOptions(
    evidence
      .command('record')
      .description('record manual evidence for a manual requirement (e.g. the monthly access review)')
      .requiredOption('--requirement <id>', 'the requirement id from the policy, e.g. access-review')
      .requiredOption('--status <status>', 'success or failure')
      .requiredOption('--summary <text>', 'what was checked and the outcome, in a line or two')
      .option(
        '--period <period>',
        "the week or month it is for (default: the current one of the requirement's cadence)",
      )
      .option('--link <url>', 'a link to the evidence (repeatable)', collect, [])
      .option('--attach <file>', 'a file to keep with the record, at most 10 MiB (repeatable)', collect, [])
      .option('--as <actor>', 'who records (default: cli:$USER)')
      .option('--json', 'print as JSON', false),
  ).action(
    async (
      options: StoreOptions &
        JsonOption & {
          requirement: string;
          status: string;
          summary: string;
          period?: string;
          link: string[];
          attach: string[];
          as?: string;
        },
    ) => {
      const body = parseOrThrow(recordBodySchema, {
        requirement_id: options.requirement,
        status: options.status,
        summary: options.summary,
        period: options.period,
        links: options.link.map((href) => ({ href })),
      });
      const attachments = options.attach.map(readAttachment);
      await withServices(options, async (s) => {
        const record = await s.evidence.record({ ...body, attachments }, cliActor(options.as));
        if (options.json) return printJson(presentRecord(record));
        process.stdout.write(
          `Recorded evidence ${record.id}: ${record.requirement_id} ${record.period} ${record.status} — ${record.summary}\n` +
            record.attachments
              .map((a) => `  attached ${a.filename} (${a.size} bytes, sha256 ${a.sha256})\n`)
              .join(''),
        );
      });
    },
  );

  withStoreOptions(
    evidence
      .command('sync')
      .description("collect the policy's workflow runs from the GitHub API (fills in runs a webhook missed)")
      .option('--since <age>', 'how far back: a duration like "35d" or an ISO date', '35d')
      .option('--max-wait <duration>', 'longest rate-limit wait before giving up', '60s')
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & JsonOption & { since: string; maxWait: string }) => {
    const maxWaitMs = wallDuration(options.maxWait, '--max-wait');
    await withServices(options, async (s) => {
      const since = parseSince(options.since, s.clock.now());
      const result = await s.evidence.sync({
        since,
        maxWaitMs,
        progress: (message) => process.stderr.write(`${message}\n`),
      });
      if (options.json) printJson(result);
      else {
        for (const w of result.workflows)
          process.stdout.write(
            `  ${w.entry} → ${w.files.join(', ') || '(nothing)'}${w.problem ? `  ! ${w.problem}` : ''}\n`,
          );
        process.stdout.write(
          `${result.repo}@${result.branch} since ${result.since}: ${result.seen} completed runs seen, ${result.new} new, ${result.updated} updated.\n`,
        );
      }
      if (result.rate_limited_until) {
        process.stderr.write(
          `guardia: stopped early: GitHub API rate limited until ${result.rate_limited_until}\n`,
        );
        process.exitCode = 2;
      }
    });
  });

  const review = program.command('review').description('weekly incident review');
  withStoreOptions(
    review
      .command('weekly')
      .description("record the week's incident review; the week's incidents and SLA outcomes are attached")
      .option('--week <week>', 'the ISO week, e.g. 2026-W48 (default: the current week)')
      .requiredOption('--note <text>', 'who reviewed and what was concluded')
      .option('--as <actor>', 'who records (default: cli:$USER)')
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & JsonOption & { week?: string; note: string; as?: string }) => {
    const body = parseOrThrow(reviewBodySchema, { week: options.week, note: options.note });
    await withServices(options, async (s) => {
      const record = await s.evidence.recordWeeklyReview(body.week, body.note, cliActor(options.as));
      if (options.json) return printJson(presentRecord(record));
      process.stdout.write(`Recorded the incident review for ${record.period}: ${record.summary}\n`);
      const incidents = (record.data.incidents ?? []) as {
        id: number;
        severity: string;
        status: string;
        title: string;
      }[];
      for (const i of incidents)
        process.stdout.write(`  #${i.id} [${i.severity}] ${i.status.padEnd(12)} ${i.title}\n`);
    });
  });
}

function describePeriod(p: PeriodStatus, timeZone: string): string {
  const { first, last } = periodDates(p.period);
  const lines = [
    `${p.period} (${first} → ${last}, ${timeZone}) — ${p.closed ? 'closed' : `open until ${p.end}`}`,
    `  ${'REQUIREMENT'.padEnd(24)} ${'STATE'.padEnd(9)} EVIDENCE`,
  ];
  for (const r of p.requirements)
    lines.push(`  ${r.id.padEnd(24)} ${stateCell(r).padEnd(9)} ${evidenceCell(r)}`);
  return lines.join('\n') + '\n';
}

function stateCell(r: RequirementStatus): string {
  return r.state === 'missing' || r.state === 'failed' ? r.state.toUpperCase() : r.state.replace('_', ' ');
}

function evidenceCell(r: RequirementStatus): string {
  const item = r.evidence[0] ?? r.failures[0];
  if (!item) return r.kind === 'workflow' ? `(no completed run of ${r.workflow})` : '(nothing recorded)';
  const more = r.evidence.length + r.failures.length - 1;
  return `${item.summary}${item.url ? ` ${item.url}` : ''}${more > 0 ? ` (+${more} more)` : ''}`;
}

function readAttachment(file: string): { filename: string; content_type: string; content: Buffer } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw invalidInput([{ field: '--attach', message: `cannot read "${file}"`, received: file }]);
  }
  if (!stat.isFile())
    throw invalidInput([{ field: '--attach', message: `"${file}" is not a file`, received: file }]);
  if (stat.size > MAX_ATTACHMENT_BYTES)
    throw new GuardiaError(
      'payload_too_large',
      `--attach ${file} is ${stat.size} bytes; the limit is 10 MiB`,
    );
  const ext = path.extname(file).toLowerCase();
  return {
    filename: path.basename(file),
    content_type: CONTENT_TYPES[ext] ?? 'application/octet-stream',
    content: fs.readFileSync(file),
  };
}

function wallDuration(text: string, field: string): number {
  const parsed = parseDuration(text);
  if ('error' in parsed || parsed.kind !== 'wall')
    throw invalidInput([{ field, message: 'expected a duration like "60s", "5m" or "35d"', received: text }]);
  return parsed.ms;
}

/** `--since`: a duration back from now ("35d") or an ISO date/time. */
export function parseSince(text: string, now: Date): Date {
  const parsed = parseDuration(text);
  if (!('error' in parsed) && parsed.kind === 'wall') return new Date(now.getTime() - parsed.ms);
  const date = z.union([z.iso.date(), z.iso.datetime({ offset: true })]).safeParse(text.trim());
  if (date.success) return new Date(date.data);
  throw invalidInput([
    {
      field: '--since',
      message: 'expected a duration like "35d" or an ISO date like "2026-10-01"',
      received: text,
    },
  ]);
}

/**
 * Presenting a playbook report: plain text for people (grouped, one line per check, colour only when asked),
 * Markdown for an incident or a ticket, a one-line progress note per finished check, and the counts line used on
 * the incident timeline. English and Spanish; the words of the findings come from the checks, in both languages.
 * Pure functions: the CLI decides about TTYs and NO_COLOR.
 */
import type { Finding, FindingStatus, PlaybookReport } from './check.js';
import { PLAYBOOKS } from './registry.js';

export type Language = 'en' | 'es';

interface Strings {
  playbook: string;
  status: Record<FindingStatus, string>;
  statusPlural: Record<FindingStatus, string>;
  overall: Record<PlaybookReport['status'], string>;
  summary: string;
  details: string;
  evidence: string;
  mitigation: string;
  noChecks: string;
  took: (duration: string) => string;
  tableHeader: [string, string, string, string];
}

const STRINGS: Record<Language, Strings> = {
  en: {
    playbook: 'Playbook',
    status: { pass: 'pass', warn: 'warn', fail: 'fail', skip: 'skip' },
    statusPlural: { pass: 'pass', warn: 'warn', fail: 'fail', skip: 'skip' },
    overall: { pass: 'PASS', warn: 'WARN', fail: 'FAIL' },
    summary: 'Result',
    details: 'What to look at',
    evidence: 'Evidence',
    mitigation: 'Mitigation',
    noChecks: 'This playbook has no checks yet.',
    took: (d) => `took ${d}`,
    tableHeader: ['', 'Group', 'Check', 'Finding'],
  },
  es: {
    playbook: 'Playbook',
    status: { pass: 'ok', warn: 'aviso', fail: 'fallo', skip: 'omitida' },
    statusPlural: { pass: 'ok', warn: 'avisos', fail: 'fallos', skip: 'omitidas' },
    overall: { pass: 'OK', warn: 'AVISO', fail: 'FALLO' },
    summary: 'Resultado',
    details: 'Qué revisar',
    evidence: 'Evidencia',
    mitigation: 'Mitigación',
    noChecks: 'Este playbook todavía no tiene comprobaciones.',
    took: (d) => `duró ${d}`,
    tableHeader: ['', 'Grupo', 'Comprobación', 'Resultado'],
  },
};

export const SYMBOLS: Record<FindingStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '–' };
const EMOJI: Record<PlaybookReport['status'], string> = { pass: '✅', warn: '⚠️', fail: '❌' };
const COLOURS: Record<FindingStatus, string> = {
  pass: '\x1b[32m',
  warn: '\x1b[33m',
  fail: '\x1b[31m',
  skip: '\x1b[2m',
};
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

export interface TextOptions {
  lang: Language;
  /** ANSI colours (the CLI passes true only for a TTY without NO_COLOR). */
  color: boolean;
}

/** "2 fail, 1 warn, 9 pass" (+ ", 3 skip" when some skipped); always English: it is the timeline's line. */
export function countsLine(findings: readonly Finding[]): string {
  const c = counts(findings);
  const parts = [`${c.fail} fail`, `${c.warn} warn`, `${c.pass} pass`];
  if (c.skip > 0) parts.push(`${c.skip} skip`);
  return parts.join(', ');
}

export function counts(findings: readonly Finding[]): Record<FindingStatus, number> {
  const c: Record<FindingStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const f of findings) c[f.status]++;
  return c;
}

function localCounts(findings: readonly Finding[], s: Strings): string {
  const c = counts(findings);
  return (['fail', 'warn', 'pass', 'skip'] as const)
    .map((k) => `${c[k]} ${c[k] === 1 ? s.status[k] : s.statusPlural[k]}`)
    .join(', ');
}

/** The report for people: header, checks grouped by group, the result line, then evidence and mitigation for
 *  every warn and fail. */
export function formatReportText(report: PlaybookReport, options: TextOptions): string {
  const s = STRINGS[options.lang];
  const L = options.lang;
  const paint = (status: FindingStatus, text: string) =>
    options.color ? `${COLOURS[status]}${text}${RESET}` : text;
  const bold = (text: string) => (options.color ? `${BOLD}${text}${RESET}` : text);
  const info = PLAYBOOKS[report.playbook];
  const lines: string[] = [bold(`${s.playbook} ${report.playbook}: ${info.title[L]}`), ''];

  if (report.findings.length === 0) lines.push(s.noChecks);
  let group: string | undefined;
  for (const f of report.findings) {
    if (f.group[L] !== group) {
      if (group !== undefined) lines.push('');
      group = f.group[L];
      lines.push(bold(group));
    }
    lines.push(`  ${paint(f.status, SYMBOLS[f.status])} ${f.title[L]}: ${oneLine(f.summary[L])}`);
  }

  const elapsed = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
  lines.push(
    '',
    `${s.summary}: ${paint(report.status, s.overall[report.status])} (${localCounts(report.findings, s)}; ${s.took(formatElapsed(elapsed))})`,
  );

  const notable = report.findings.filter((f) => f.status === 'fail' || f.status === 'warn');
  if (notable.length > 0) {
    lines.push('', bold(s.details));
    for (const f of notable) {
      lines.push('', `${paint(f.status, SYMBOLS[f.status])} ${bold(f.title[L])} (${f.id})`);
      lines.push(`    ${oneLine(f.summary[L])}`);
      const evidence = compactEvidence(f.evidence);
      if (evidence.length > 0) {
        lines.push(`    ${s.evidence}:`);
        lines.push(...evidence.map((e) => `      ${e}`));
      }
      if (f.mitigation) lines.push(`    ${s.mitigation}: ${oneLine(f.mitigation[L])}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A Markdown section for an incident or a ticket: result, a table of every finding, then mitigations. */
export function formatReportMarkdown(report: PlaybookReport, options: { lang: Language }): string {
  const s = STRINGS[options.lang];
  const L = options.lang;
  const info = PLAYBOOKS[report.playbook];
  const lines = [
    `### ${EMOJI[report.status]} ${s.playbook} \`${report.playbook}\`: ${md(info.title[L])} — ${s.overall[report.status]}`,
    '',
    `${localCounts(report.findings, s)} · ${report.startedAt}`,
    '',
  ];
  if (report.findings.length === 0) lines.push(s.noChecks, '');
  else {
    const [a, b, c, d] = s.tableHeader;
    lines.push(`| ${a} | ${b} | ${c} | ${d} |`, '|---|---|---|---|');
    for (const f of report.findings)
      lines.push(
        `| ${SYMBOLS[f.status]} ${s.status[f.status]} | ${md(f.group[L])} | ${md(f.title[L])} | ${md(f.summary[L])} |`,
      );
    lines.push('');
  }
  const notable = report.findings.filter((f) => f.mitigation && (f.status === 'fail' || f.status === 'warn'));
  if (notable.length > 0) {
    lines.push(`**${s.mitigation}**`, '');
    for (const f of notable)
      lines.push(`- ${SYMBOLS[f.status]} **${md(f.title[L])}**: ${md(f.mitigation![L])}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** One line on stderr as a check finishes: "[3/12] ✗ login.trust_proxy (120 ms)". */
export function formatProgress(
  findings: readonly Finding[],
  progress: { done: number; total: number; checkId: string },
  options: TextOptions,
): string {
  const worst: FindingStatus = findings.some((f) => f.status === 'fail')
    ? 'fail'
    : findings.some((f) => f.status === 'warn')
      ? 'warn'
      : findings.length > 0 && findings.every((f) => f.status === 'skip')
        ? 'skip'
        : 'pass';
  const symbol = options.color ? `${COLOURS[worst]}${SYMBOLS[worst]}${RESET}` : SYMBOLS[worst];
  const ms = findings[0]?.durationMs;
  return `[${progress.done}/${progress.total}] ${symbol} ${progress.checkId}${ms === undefined ? '' : ` (${formatElapsed(ms)})`}\n`;
}

/** Evidence as a few short lines: `key: value`, objects as compact JSON, long values cut. */
export function compactEvidence(evidence: Record<string, unknown>, maxLines = 8, maxWidth = 160): string[] {
  const entries = Object.entries(evidence ?? {});
  const lines = entries.slice(0, maxLines).map(([key, value]) => {
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    const flat = oneLine(text);
    return `${key}: ${flat.length > maxWidth ? `${flat.slice(0, maxWidth - 1)}…` : flat}`;
  });
  if (entries.length > maxLines) lines.push(`… (${entries.length - maxLines} more; --json shows everything)`);
  return lines;
}

/** One line, without control characters (a log line must not drive the terminal). */
function oneLine(text: string): string {
  return (
    text
      .replace(/\s*[\r\n]+\s*/g, ' ⏎ ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
      .trim()
  );
}

/** Markdown table cell: no pipes, no line breaks. */
function md(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Math.round(ms / 100) / 10} s`;
}

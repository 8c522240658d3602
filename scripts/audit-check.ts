/**
 * CI's dependency audit: `npm audit --omit=dev --json`, then one of three answers.
 * - The advisory database answered: exit 1 if any high or critical advisory affects a production dependency and
 *   SECURITY.md does not explain it (by its GHSA id or URL); exit 0 otherwise, listing what was found.
 * - The advisory endpoint could not be reached or refused the request (network error, registry outage, a proxy or
 *   mirror without the audit endpoint): npm exits 1 for that too, but prints an error object instead of a report
 *   (npm's lib/utils/audit-error.js: `message`, no `metadata`) and "audit endpoint returned an error" on stderr. That
 *   is not a finding: print a warning and exit 0.
 * - Anything else (no lockfile, npm itself failing): exit 1 with npm's output.
 * Run: node --import tsx scripts/audit-check.ts  (from .ci/run, before npm test)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Advisory {
  package: string;
  severity: string;
  title: string;
  url: string;
}

export type AuditDecision =
  | { kind: 'pass'; message: string; advisories: Advisory[] }
  | { kind: 'fail'; message: string; advisories: Advisory[] }
  | { kind: 'unavailable'; message: string };

const BLOCKING = new Set(['high', 'critical']);

interface AuditReport {
  metadata?: { vulnerabilities?: Record<string, number> };
  vulnerabilities?: Record<string, { name?: string; via?: unknown[] }>;
  message?: unknown;
}

/** Decides from npm's stdout (JSON), its stderr, and the text of SECURITY.md. */
export function decideAudit(stdout: string, stderr: string, securityMd: string): AuditDecision {
  let report: AuditReport;
  try {
    report = JSON.parse(stdout) as AuditReport;
  } catch {
    return {
      kind: 'fail',
      message: `npm audit printed no JSON report:\n${stdout}\n${stderr}`,
      advisories: [],
    };
  }
  if (!report.metadata?.vulnerabilities) {
    if (typeof report.message === 'string' && /audit endpoint returned an error/.test(stderr))
      return {
        kind: 'unavailable',
        message: `npm audit could not get advisories from the registry (${report.message}); the audit was skipped, not passed`,
      };
    return { kind: 'fail', message: `npm audit could not run:\n${stdout}\n${stderr}`, advisories: [] };
  }
  const seen = new Map<string, Advisory>();
  for (const [pkg, vuln] of Object.entries(report.vulnerabilities ?? {}))
    for (const via of vuln.via ?? []) {
      if (!via || typeof via !== 'object') continue;
      const v = via as { name?: string; severity?: string; title?: string; url?: string };
      if (!v.severity || !BLOCKING.has(v.severity)) continue;
      const url = v.url ?? `${v.name ?? pkg}: ${v.title ?? 'advisory'}`;
      seen.set(url, { package: v.name ?? pkg, severity: v.severity, title: v.title ?? '', url });
    }
  const advisories = [...seen.values()];
  const counts = report.metadata.vulnerabilities;
  const summary = ['critical', 'high', 'moderate', 'low', 'info']
    .map((s) => `${counts[s] ?? 0} ${s}`)
    .join(', ');
  const explained = (a: Advisory) => {
    const id = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/.exec(a.url)?.[0];
    return securityMd.includes(a.url) || (id !== undefined && securityMd.includes(id));
  };
  const unexplained = advisories.filter((a) => !explained(a));
  const list = (as: Advisory[]) =>
    as.map((a) => `  ${a.severity} ${a.package}: ${a.title} (${a.url})`).join('\n');
  if (unexplained.length > 0)
    return {
      kind: 'fail',
      message: `npm audit --omit=dev: ${summary}. High or critical advisories not explained in SECURITY.md:\n${list(unexplained)}\nUpgrade, or explain each in SECURITY.md by its GHSA id.`,
      advisories,
    };
  return {
    kind: 'pass',
    message: `npm audit --omit=dev: ${summary}${advisories.length ? `; explained in SECURITY.md:\n${list(advisories)}` : '; no high or critical advisory'}`,
    advisories,
  };
}

function main(): void {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], { encoding: 'utf8' });
  const securityMd = fs.existsSync('SECURITY.md') ? fs.readFileSync('SECURITY.md', 'utf8') : '';
  const decision = decideAudit(run.stdout ?? '', run.stderr ?? '', securityMd);
  if (decision.kind === 'unavailable') {
    console.log(`WARNING: ${decision.message}`);
    return;
  }
  console.log(decision.message);
  if (decision.kind === 'fail') process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) main();

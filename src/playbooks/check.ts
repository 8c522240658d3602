/**
 * What a playbook check is and what it reports. A playbook (`guardia diagnose login|slow|errors`, `guardia verify
 * …`) is a list of checks; each check looks at the real system through probes (HTTP, MySQL/MariaDB, Redis, logs,
 * Sentry) and ends in exactly one Finding. The decision ("is this a pass, warn or fail?") is a pure function of
 * what the probe observed, so it can be unit-tested without the system; the probe does the I/O around it.
 */

/** pass: the runbook's condition holds. warn: it holds, but close to a threshold. fail: it does not hold.
 *  skip: the check could not run here (no target configured, no permission, feature off) — the reason says why. */
export type FindingStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type PlaybookName = 'login' | 'slow' | 'errors' | 'tenant-indexes' | 'tenant-performance';

/** Words in both of the runbook's languages. */
export interface Bilingual {
  en: string;
  es: string;
}

/** The end of one check. Never carries a secret value: secrets appear only as `<redacted>` or a fingerprint. */
export interface Finding {
  /** Stable id, dotted: `login.trust_proxy`, `slow.mysql.connections`, `errors.by_procedure`. */
  id: string;
  playbook: PlaybookName;
  /** Group shown to people (e.g. "Configuration", "Cookies and CORS", "MySQL", "Redis", "Queues", "Logs"). */
  group: Bilingual;
  title: Bilingual;
  status: FindingStatus;
  /** One sentence naming the cause, e.g. "login returned 200 without Set-Cookie: TRUST_PROXY is unset, so the app
   *  sees http and will not send a Secure cookie". For skip: why it could not run. */
  summary: Bilingual;
  /** What the probe saw (header values, counts, EXPLAIN rows, log lines) — redacted. */
  evidence: Record<string, unknown>;
  /** The runbook's mitigation for this failure; present on warn/fail. */
  mitigation?: Bilingual;
  /** How long the check took, in milliseconds. */
  durationMs: number;
}

/** The result of running one playbook. */
export interface PlaybookReport {
  playbook: PlaybookName;
  startedAt: string;
  finishedAt: string;
  findings: Finding[];
  /** Worst status over the findings (skip counts as pass): what the exit code follows (fail → 1). */
  status: 'pass' | 'warn' | 'fail';
}

/** Worst of the findings' statuses; skip and an empty list count as pass. */
export function overallStatus(findings: readonly Finding[]): PlaybookReport['status'] {
  if (findings.some((f) => f.status === 'fail')) return 'fail';
  if (findings.some((f) => f.status === 'warn')) return 'warn';
  return 'pass';
}

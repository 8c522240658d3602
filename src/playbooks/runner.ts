/**
 * Running a playbook: every check at once, each under a timeout, each ending in findings that are stamped
 * (playbook, duration), scrubbed of every known secret, and sorted into one report.
 *
 * A check that hangs becomes a `fail` naming what it was waiting on and for how long (its signal is aborted so
 * its probe can let go); a check that throws becomes a `fail` carrying the redacted message. Nothing a check does
 * stops the others or the report.
 */
import {
  overallStatus,
  type Bilingual,
  type CheckContext,
  type CheckDefinition,
  type Finding,
  type FindingDraft,
  type FindingStatus,
  type PlaybookName,
  type PlaybookReport,
} from './check.js';
import { redactDeep } from './redact.js';
import { loadChecks } from './registry.js';

export interface RunPlaybookOptions {
  /** Longest a check may take, in ms. */
  timeoutMs: number;
  /** Called once per check as it finishes, with its findings (already stamped and redacted). */
  onProgress?: (findings: Finding[], progress: { done: number; total: number; checkId: string }) => void;
  /** The checks to run instead of the playbook's registered ones (tests). */
  checks?: CheckDefinition[];
}

const STATUSES: readonly FindingStatus[] = ['pass', 'warn', 'fail', 'skip'];
const DEFAULT_GROUP: Bilingual = { en: 'Checks', es: 'Comprobaciones' };

export async function runPlaybook(
  name: PlaybookName,
  ctx: CheckContext,
  options: RunPlaybookOptions,
): Promise<PlaybookReport> {
  const checks = options.checks ?? (await loadChecks(name));
  const startedAt = ctx.now().toISOString();
  let done = 0;
  const results = await Promise.all(
    checks.map(async (check) => {
      const findings = await runCheck(name, check, ctx, options.timeoutMs);
      done++;
      options.onProgress?.(findings, { done, total: checks.length, checkId: check.id });
      return findings;
    }),
  );
  const findings = sortFindings(results.flat());
  return {
    playbook: name,
    startedAt,
    finishedAt: ctx.now().toISOString(),
    findings,
    status: overallStatus(findings),
  };
}

/** Findings by group (English name), then id; findings of one id keep the order their check gave them. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => compare(a.group.en, b.group.en) || compare(a.id, b.id));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const TIMED_OUT = Symbol('timed out');

/** Runs one check to its findings; never throws. */
async function runCheck(
  playbook: PlaybookName,
  check: CheckDefinition,
  ctx: CheckContext,
  timeoutMs: number,
): Promise<Finding[]> {
  const controller = new AbortController();
  let waitingOn: string | undefined;
  const checkCtx: CheckContext = {
    ...ctx,
    signal: ctx.signal ? AbortSignal.any([ctx.signal, controller.signal]) : controller.signal,
    probing: (what: string) => {
      waitingOn = what;
    },
  };
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  const running = Promise.resolve().then(() => check.run(checkCtx));
  // A check given up on may still reject later; that is no longer anyone's business.
  running.catch(() => undefined);

  let drafts: FindingDraft[];
  try {
    const result = await Promise.race([running, timeout]);
    if (result === TIMED_OUT) {
      controller.abort(new Error(`gave up after ${formatMs(timeoutMs)}`));
      drafts = [timedOut(check, timeoutMs, waitingOn)];
    } else {
      const list = Array.isArray(result) ? result : [result];
      drafts = list.map((draft) => validDraft(check, draft));
    }
  } catch (err) {
    drafts = [crashed(check, err)];
  } finally {
    clearTimeout(timer);
  }
  const durationMs = Math.round(performance.now() - started);
  return drafts.map((draft) => redactDeep<Finding>({ ...draft, playbook, durationMs }, ctx.secrets));
}

function titleOf(check: CheckDefinition): Bilingual {
  return check.title ?? { en: check.id, es: check.id };
}

function timedOut(check: CheckDefinition, timeoutMs: number, waitingOn: string | undefined): FindingDraft {
  const after = formatMs(timeoutMs);
  return {
    id: check.id,
    group: check.group ?? DEFAULT_GROUP,
    title: titleOf(check),
    status: 'fail',
    summary: waitingOn
      ? {
          en: `no answer within ${after}: the check hung waiting on ${waitingOn}`,
          es: `sin respuesta en ${after}: la comprobación se quedó esperando a ${waitingOn}`,
        }
      : {
          en: `the check did not finish within ${after}`,
          es: `la comprobación no terminó en ${after}`,
        },
    evidence: { timeout_ms: timeoutMs, ...(waitingOn ? { waiting_on: waitingOn } : {}) },
    mitigation: {
      en: `Find out why ${waitingOn ?? 'the target'} does not answer (network, firewall, an overloaded server); give --timeout more time only if it is known to be slow.`,
      es: `Averiguar por qué ${waitingOn ?? 'el objetivo'} no responde (red, firewall, servidor saturado); subir --timeout solo si se sabe que es lento.`,
    },
  };
}

function crashed(check: CheckDefinition, err: unknown): FindingDraft {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    id: check.id,
    group: check.group ?? DEFAULT_GROUP,
    title: titleOf(check),
    status: 'fail',
    summary: {
      en: `the check failed unexpectedly: ${message}`,
      es: `la comprobación falló de forma inesperada: ${message}`,
    },
    evidence: { error: message },
    mitigation: {
      en: 'Run the playbook again; if it fails the same way, the target answered something the check did not expect: look at the evidence and report it.',
      es: 'Volver a ejecutar el playbook; si falla igual, el objetivo respondió algo que la comprobación no esperaba: revisar la evidencia y reportarlo.',
    },
  };
}

/** A draft as the report needs it; a malformed one (a bug in its check) becomes a `fail` that says so. */
function validDraft(check: CheckDefinition, draft: unknown): FindingDraft {
  const d = draft as Partial<FindingDraft> | null | undefined;
  const bilingual = (v: unknown): v is Bilingual =>
    !!v && typeof (v as Bilingual).en === 'string' && typeof (v as Bilingual).es === 'string';
  const problems: string[] = [];
  if (!d || typeof d !== 'object') problems.push('not an object');
  else {
    if (typeof d.id !== 'string' || d.id === '') problems.push('no id');
    if (!STATUSES.includes(d.status as FindingStatus)) problems.push(`status ${String(d.status)}`);
    if (!bilingual(d.group)) problems.push('no group');
    if (!bilingual(d.title)) problems.push('no title');
    if (!bilingual(d.summary)) problems.push('no summary');
    if (d.mitigation !== undefined && !bilingual(d.mitigation)) problems.push('mitigation not bilingual');
  }
  if (problems.length > 0)
    return crashed(check, new Error(`the check returned a malformed finding (${problems.join(', ')})`));
  const ok = d as FindingDraft;
  return {
    id: ok.id,
    group: ok.group,
    title: ok.title,
    status: ok.status,
    summary: ok.summary,
    evidence: ok.evidence && typeof ok.evidence === 'object' ? ok.evidence : {},
    ...(ok.mitigation ? { mitigation: ok.mitigation } : {}),
  };
}

/** "250 ms", "10 s", "1.5 s", "2 min". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

/**
 * `guardia diagnose errors` — the runbook's "Error 500 frecuente en módulo X" as checks (DESIGN.md §6):
 *
 * | id | asserts |
 * |---|---|
 * | errors.by_procedure | no 5xx over the window; else the procedures ranked by 5xx count (`/api/trpc/<router>.<procedure>`), with first/last seen and sample request ids |
 * | errors.request | with `--request-id`: that request's procedure, status, trimmed stack and payload shape (a 5xx fails, naming the procedure) |
 * | errors.sentry | with `--request-id`: the Sentry event tagged with that request id (Discover events API) |
 *
 * One backwards pass over the log window feeds both log checks. Nothing secret is copied: payloads appear as
 * their shape, stacks and messages are scrubbed of every known secret and of anything that looks like a token.
 */
import path from 'node:path';
import {
  missingTarget,
  type Bilingual,
  type CheckContext,
  type CheckDefinition,
  type FindingDraft,
} from '../check.js';
import { redactDeep } from '../redact.js';
import { memo } from '../login/memo.js';
import { knownSecrets, scrub } from '../login/probes.js';
import { logFilesOf, scanLogs, type LogScanStats } from '../probes/logs.js';
import { findSentryEvents, SENTRY_EVENT_FIELDS, type SentryLookup } from '../probes/sentry.js';
import {
  decideByProcedure,
  decideRequest,
  ErrorRanking,
  ERRORS_MITIGATION,
  foldLine,
  newFacts,
  requestIdOf,
  type Decision,
  type RequestFacts,
} from './analyze.js';

const GROUPS = {
  logs: { en: 'Logs', es: 'Logs' },
  sentry: { en: 'Sentry', es: 'Sentry' },
} satisfies Record<string, Bilingual>;

const TITLES = {
  by_procedure: { en: '5xx by tRPC procedure', es: '5xx por procedimiento tRPC' },
  request: {
    en: 'The failing request, its stack and payload',
    es: 'La petición fallida, su stacktrace y payload',
  },
  sentry: { en: 'Sentry event for the request id', es: 'Evento de Sentry del request id' },
} satisfies Record<string, Bilingual>;

const both = (en: string, es: string = en) => ({ en, es });

function define(
  id: string,
  group: Bilingual,
  title: Bilingual,
  decide: (ctx: CheckContext) => Promise<Decision>,
): CheckDefinition {
  return {
    id,
    group,
    title,
    async run(ctx) {
      const draft: FindingDraft = { id, group, title, ...(await decide(ctx)) };
      return redactDeep(draft, await knownSecrets(ctx));
    },
  };
}

interface ErrorScan {
  ranking: ErrorRanking;
  request?: RequestFacts;
  stats: LogScanStats[];
  linesInWindow: number;
}

/** One backwards pass over the window of every log file. */
function scanErrors(ctx: CheckContext): Promise<ErrorScan> {
  return memo(ctx, `errors-scan:${ctx.options.requestId ?? ''}`, async () => {
    const files = logFilesOf(ctx.targets.logFile);
    const since = ctx.now().getTime() - ctx.targets.errorsWindowMs;
    const ranking = new ErrorRanking();
    const wanted = ctx.options.requestId;
    const request = wanted ? newFacts(wanted) : undefined;
    let lines = 0;
    ctx.probing?.(`reading ${files.map((f) => path.basename(f)).join(', ')}`);
    const stats = await scanLogs(files, { since }, (rec) => {
      lines++;
      ranking.add(rec);
      if (request && rec.json && requestIdOf(rec.json) === wanted) foldLine(request, rec);
    });
    return { ranking, ...(request ? { request } : {}), stats, linesInWindow: lines };
  });
}

const filesEvidence = (stats: LogScanStats[]) =>
  stats.map((s) => ({
    file: path.basename(s.file),
    size_bytes: s.sizeBytes,
    bytes_read: s.bytesRead,
    whole_window_read: s.reachedWindowStart,
    ...(s.error ? { error: s.error } : {}),
  }));

function unreadable(stats: LogScanStats[]): Decision | undefined {
  const bad = stats.filter((s) => s.error);
  if (!bad.length || bad.length < stats.length) return undefined;
  const list = bad.map((s) => `${s.file} (${s.error})`).join(', ');
  return {
    status: 'fail',
    summary: both(`cannot read the log file ${list}`, `no se puede leer el log ${list}`),
    evidence: { files: filesEvidence(stats) },
  };
}

const noRequestId: Decision = {
  status: 'skip',
  summary: both(
    'no --request-id given: pass the X-Request-Id of a failing call to trace it',
    'sin --request-id: pasar el X-Request-Id de una llamada fallida para seguirla',
  ),
  evidence: {},
};

/** Secret-free text of a log-derived finding (stack, messages). */
async function scrubDecision(ctx: CheckContext, d: Decision): Promise<Decision> {
  const walk = async (v: unknown): Promise<unknown> => {
    if (typeof v === 'string') return scrub(ctx, v);
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(v)) out[k] = await walk(val);
      return out;
    }
    return v;
  };
  return (await walk(d)) as Decision;
}

function sentryEvidence(lookup: SentryLookup) {
  const url = new URL(lookup.url);
  const query = url.searchParams.get('query');
  const base = { endpoint: `${url.origin}${url.pathname}`, query };
  if (lookup.outcome === 'found')
    return {
      ...base,
      events: lookup.events.slice(0, 5).map((e) => {
        const row: Record<string, unknown> = {};
        for (const f of SENTRY_EVENT_FIELDS) if (e[f] !== undefined) row[f] = e[f];
        return row;
      }),
    };
  if (lookup.outcome === 'error')
    return { ...base, ...(lookup.status ? { status: lookup.status } : {}), error: lookup.message };
  return base;
}

export const errorsChecks: CheckDefinition[] = [
  define('errors.by_procedure', GROUPS.logs, TITLES.by_procedure, async (ctx) => {
    if (!logFilesOf(ctx.targets.logFile).length)
      return { status: 'skip', summary: missingTarget(ctx.targets, 'logFile'), evidence: {} };
    const scan = await scanErrors(ctx);
    const bad = unreadable(scan.stats);
    if (bad) return bad;
    const d = decideByProcedure(scan.ranking.ranking(), ctx.targets.errorsWindowMs, scan.linesInWindow);
    return scrubDecision(ctx, { ...d, evidence: { ...d.evidence, files: filesEvidence(scan.stats) } });
  }),

  define('errors.request', GROUPS.logs, TITLES.request, async (ctx) => {
    const id = ctx.options.requestId;
    if (!id) return noRequestId;
    if (!logFilesOf(ctx.targets.logFile).length)
      return { status: 'skip', summary: missingTarget(ctx.targets, 'logFile'), evidence: { request_id: id } };
    const scan = await scanErrors(ctx);
    const bad = unreadable(scan.stats);
    if (bad) return bad;
    const d = decideRequest(id, scan.request, ctx.targets.errorsWindowMs);
    return scrubDecision(ctx, { ...d, evidence: { ...d.evidence, files: filesEvidence(scan.stats) } });
  }),

  define('errors.sentry', GROUPS.sentry, TITLES.sentry, async (ctx) => {
    const id = ctx.options.requestId;
    if (!id) return noRequestId;
    const sentry = ctx.targets.sentry;
    if (!sentry) return { status: 'skip', summary: missingTarget(ctx.targets, 'sentry'), evidence: {} };
    if (!sentry.token)
      return {
        status: 'skip',
        summary: both(
          'no Sentry token: set SENTRY_AUTH_TOKEN (or playbooks.targets.sentry.token) to look the event up',
          'sin token de Sentry: definir SENTRY_AUTH_TOKEN (o playbooks.targets.sentry.token) para buscar el evento',
        ),
        evidence: { api_url: sentry.apiUrl, org: sentry.org },
      };
    ctx.probing?.(`Sentry events API at ${sentry.apiUrl}`);
    const lookup = await findSentryEvents({ ...sentry, token: sentry.token }, id);
    const evidence = sentryEvidence(lookup);
    if (lookup.outcome === 'found') {
      const e = lookup.events[0]!;
      const title = typeof e.title === 'string' ? e.title : 'event';
      return scrubDecision(ctx, {
        status: 'pass',
        summary: both(
          `Sentry has ${lookup.events.length} event${lookup.events.length === 1 ? '' : 's'} for request ${id}: ${title}${typeof e.culprit === 'string' && e.culprit ? ` (${e.culprit})` : ''}`,
          `Sentry tiene ${lookup.events.length} evento(s) para la petición ${id}: ${title}${typeof e.culprit === 'string' && e.culprit ? ` (${e.culprit})` : ''}`,
        ),
        evidence,
      });
    }
    if (lookup.outcome === 'none')
      return {
        status: 'warn',
        summary: both(
          `Sentry has no event tagged request_id:${id} (is the SDK tagging request_id?)`,
          `Sentry no tiene eventos con request_id:${id} (¿el SDK etiqueta request_id?)`,
        ),
        evidence,
        mitigation: ERRORS_MITIGATION,
      };
    return scrubDecision(ctx, {
      status: 'fail',
      summary: both(
        `Sentry lookup failed: ${lookup.message}`,
        `falló la búsqueda en Sentry: ${lookup.message}`,
      ),
      evidence,
      mitigation: {
        en: 'Check the Sentry API URL, organization slug and that the token has the org:read/event:read scope.',
        es: 'Revisar la URL de la API de Sentry, el slug de la organización y que el token tenga los scopes org:read/event:read.',
      },
    });
  }),
];

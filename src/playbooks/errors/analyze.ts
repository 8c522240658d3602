/**
 * The errors playbook's decisions, pure: which tRPC procedure a log line is about, 5xx counted per procedure,
 * one request's story (status, stack, payload shape) from its log lines, and a payload summary that keeps keys,
 * types and lengths but no value of a secret-looking key and no string at all.
 */
import type { FindingDraft } from '../check.js';
import type { LogRecord } from '../probes/logs.js';

export type Decision = Omit<FindingDraft, 'id' | 'group' | 'title'>;

export const TRPC_PREFIX = '/api/trpc/';

/** tRPC error codes answered with a 5xx (tRPC v11's getHTTPStatusCodeFromError). */
export const TRPC_5XX: Record<string, number> = {
  INTERNAL_SERVER_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
};

/** Procedures named by a request URL: `/api/trpc/leads.import?x` → [`leads.import`]; a batch
 *  `/api/trpc/a.b,c.d?batch=1` → both; anything else → []. */
export function proceduresOfUrl(url: string): string[] {
  let pathname: string;
  try {
    pathname = new URL(url, 'http://x').pathname;
  } catch {
    pathname = url.split('?')[0] ?? url;
  }
  const i = pathname.indexOf(TRPC_PREFIX);
  if (i < 0) return [];
  return decodeURIComponent(pathname.slice(i + TRPC_PREFIX.length))
    .split(',')
    .map((p) => p.trim())
    .filter((p) => /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)+$/.test(p));
}

export const procedurePath = (procedure: string) => `${TRPC_PREFIX}${procedure}`;

const SECRET_KEY =
  /pass|secret|token|cookie|session|authori[sz]ation|api[-_]?key|jwt|credential|private|signature|otp|pin$/i;
const SUMMARY_TOKEN =
  /^(string|array|object)\(\d+\)$|^<redacted>$|^(object|string|number|boolean|undefined|function)$/;
const MAX_DEPTH = 5;
const MAX_KEYS = 30;
const MAX_ITEMS = 3;

export function isSecretLikeKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A payload's shape without its content: strings become `string(N)` (their length), numbers and booleans stay,
 * secret-looking keys become `<redacted>` whatever their type, arrays become `{length, items (first 3), missing}`
 * where `missing` counts items of an array of objects lacking a key others have (the usual cause of a 500 on an
 * import). A value already summarized by the app (`string(12)`, `<redacted>`) is kept as it is.
 */
export function summarizePayload(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return SUMMARY_TOKEN.test(value) ? value : `string(${value.length})`;
  if (typeof value !== 'object') return typeof value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `array(${value.length})` : 'object';
  if (Array.isArray(value)) {
    const out: Record<string, unknown> = {
      length: value.length,
      items: value.slice(0, MAX_ITEMS).map((v) => summarizePayload(v, depth + 1)),
    };
    const objects = value.filter(
      (v): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v),
    );
    if (objects.length) {
      const keys = new Set(objects.flatMap((o) => Object.keys(o)));
      const missing: Record<string, number> = {};
      for (const k of keys) {
        const n = value.filter(
          (v) => !v || typeof v !== 'object' || (v as Record<string, unknown>)[k] == null,
        ).length;
        if (n) missing[isSecretLikeKey(k) ? '<redacted>' : k] = n;
      }
      if (Object.keys(missing).length) out.missing = missing;
    }
    return out;
  }
  const o = value as Record<string, unknown>;
  if (isArraySummary(o)) {
    // Already an array's summary (the app summarized it): keep its shape, summarize its items.
    const out: Record<string, unknown> = {
      length: o.length,
      items: (o.items as unknown[]).slice(0, MAX_ITEMS).map((v) => summarizePayload(v, depth + 1)),
    };
    if (o.missing && typeof o.missing === 'object') {
      const missing: Record<string, unknown> = {};
      for (const [k, n] of Object.entries(o.missing as Record<string, unknown>))
        missing[isSecretLikeKey(k) ? '<redacted>' : k] =
          typeof n === 'number' ? n : summarizePayload(n, depth + 1);
      out.missing = missing;
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  const entries = Object.entries(o);
  for (const [k, v] of entries.slice(0, MAX_KEYS))
    out[k] = isSecretLikeKey(k) ? '<redacted>' : summarizePayload(v, depth + 1);
  if (entries.length > MAX_KEYS) out['…'] = `${entries.length - MAX_KEYS} more keys`;
  return out;
}

/** `{length, items[, missing]}`: the summary of an array (ours or the app's). */
function isArraySummary(o: Record<string, unknown>): boolean {
  const keys = Object.keys(o);
  return (
    typeof o.length === 'number' &&
    Array.isArray(o.items) &&
    keys.every((k) => k === 'length' || k === 'items' || k === 'missing')
  );
}

/** Where in a payload summary items lack keys: `leads[]: 1 item lacks email`. */
export function missingKeysHint(summary: unknown, at = ''): string[] {
  if (!summary || typeof summary !== 'object') return [];
  const s = summary as Record<string, unknown>;
  const out: string[] = [];
  if (typeof s.length === 'number' && Array.isArray(s.items) && s.missing && typeof s.missing === 'object') {
    for (const [k, n] of Object.entries(s.missing as Record<string, unknown>))
      out.push(
        `${at || 'payload'}[]: ${String(n)} of ${s.length} item${s.length === 1 ? '' : 's'} lack ${k}`,
      );
    return out;
  }
  for (const [k, v] of Object.entries(s)) out.push(...missingKeysHint(v, at ? `${at}.${k}` : k));
  return out;
}

/** The first lines of a stack: the message and up to `frames` frames, node internals dropped, file paths relative
 *  to the directory all frames share (the deploy root, e.g. `/srv/app/`: `stackRoot` says which). */
export function trimStack(stack: string, frames = 10): string[] {
  const lines = stack.split('\n').map((l) => l.trimEnd());
  const head = lines.filter((l) => !/^\s+at /.test(l)).slice(0, 2);
  const at = lines.filter((l) => /^\s+at /.test(l) && !/\(node:|^\s+at node:/.test(l)).map((l) => l.trim());
  const root = stackRoot(at);
  const kept = at.slice(0, frames).map((l) => (root ? l.split(root).join('') : l));
  if (at.length > frames) kept.push(`… ${at.length - frames} more frames`);
  return [...head, ...kept];
}

/** The longest directory every absolute file path in the frames starts with (`/srv/app/`), or undefined. */
export function stackRoot(frames: readonly string[]): string | undefined {
  const paths = frames
    .map((l) => /(?:\(|at )(?:file:\/\/)?(\/[^():]+):\d+/.exec(l)?.[1])
    .filter((p): p is string => !!p);
  if (paths.length === 0) return undefined;
  let prefix = paths[0]!.slice(0, paths[0]!.lastIndexOf('/') + 1);
  for (const p of paths)
    while (prefix && !p.startsWith(prefix))
      prefix = prefix.slice(0, prefix.lastIndexOf('/', prefix.length - 2) + 1);
  return prefix.length > 1 ? prefix : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading log lines

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** A request id on a log line: pino/fastify `reqId`, pino-http `req.id`, or `requestId`/`request_id`. */
export function requestIdOf(j: Record<string, unknown>): string | undefined {
  return str(j.reqId) ?? str(obj(j.req)?.id) ?? str(j.requestId) ?? str(j.request_id);
}

/** The HTTP status a line reports: `res.statusCode`, `statusCode`, or `status` (when a number). */
export function statusOf(j: Record<string, unknown>): number | undefined {
  const v = obj(j.res)?.statusCode ?? j.statusCode ?? (typeof j.status === 'number' ? j.status : undefined);
  return typeof v === 'number' ? v : undefined;
}

export interface RequestFacts {
  reqId: string;
  status?: number;
  method?: string;
  url?: string;
  responseTimeMs?: number;
  procedures: string[];
  code?: string;
  error?: { type?: string; message?: string; stack?: string };
  input?: unknown;
  /** Non-secret context the app logged: tenant, user, role, instance. */
  who: Record<string, string | number>;
  first?: number;
  last?: number;
  lines: number;
}

/** Folds one log line into what is known about its request. */
export function foldLine(facts: RequestFacts, rec: LogRecord): void {
  const j = rec.json;
  if (!j) return;
  facts.lines++;
  if (rec.time !== undefined) {
    facts.first = Math.min(facts.first ?? rec.time, rec.time);
    facts.last = Math.max(facts.last ?? rec.time, rec.time);
  }
  const status = statusOf(j);
  if (status !== undefined) facts.status = status;
  const req = obj(j.req);
  const method = str(req?.method);
  const url = str(req?.url) ?? str(j.url);
  if (method) facts.method = method;
  if (url) {
    facts.url = url;
    for (const p of proceduresOfUrl(url)) if (!facts.procedures.includes(p)) facts.procedures.push(p);
  }
  if (typeof j.responseTime === 'number') facts.responseTimeMs = Math.round(j.responseTime);
  const procedure = str(j.procedure);
  if (procedure && !facts.procedures.includes(procedure)) facts.procedures.unshift(procedure);
  const path = str(j.path);
  if (!procedure && path)
    for (const p of proceduresOfUrl(path)) if (!facts.procedures.includes(p)) facts.procedures.push(p);
  const code = str(j.code);
  if (code && /^[A-Z_]+$/.test(code)) facts.code = code;
  const err = obj(j.err) ?? obj(j.error);
  if (err) {
    facts.error = {
      ...facts.error,
      ...(str(err.type) ? { type: str(err.type) } : {}),
      ...(str(err.message) ? { message: str(err.message) } : {}),
      ...(str(err.stack) ? { stack: str(err.stack) } : {}),
    };
  }
  if ('input' in j) facts.input = j.input;
  for (const k of ['tenantId', 'tenant_id', 'userId', 'user_id', 'role', 'instance'])
    if (typeof j[k] === 'string' || typeof j[k] === 'number') facts.who[k] = j[k] as string | number;
}

export function newFacts(reqId: string): RequestFacts {
  return { reqId, procedures: [], who: {}, lines: 0 };
}

/** The HTTP status of a request: logged, else implied by its tRPC error code. */
export function effectiveStatus(f: RequestFacts): number | undefined {
  return f.status ?? (f.code ? (TRPC_5XX[f.code] ?? undefined) : undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// Ranking 5xx by procedure

export interface ProcedureRank {
  procedure: string;
  count: number;
  statuses: Record<string, number>;
  error_types: Record<string, number>;
  first_seen: string | null;
  last_seen: string | null;
  sample_request_ids: string[];
}

/**
 * Collects, over log lines read newest first, the requests that ended (or would end) in a 5xx — only those are
 * kept, so memory follows the number of failures, not of requests — and ranks their procedures.
 */
export class ErrorRanking {
  private readonly failing = new Map<string, RequestFacts>();
  private anonymous = 0;
  linesSeen = 0;

  add(rec: LogRecord): void {
    this.linesSeen++;
    const j = rec.json;
    if (!j) return;
    const status = statusOf(j);
    const code = str(j.code);
    const errorish = typeof j.level === 'number' ? j.level >= 50 : !!obj(j.err);
    const relevant =
      (status !== undefined && status >= 500) ||
      (code && TRPC_5XX[code]) ||
      (errorish && (j.procedure || j.path));
    const id = requestIdOf(j);
    if (!id) {
      if (relevant) {
        const f = newFacts(`line:${++this.anonymous}`);
        foldLine(f, rec);
        this.failing.set(f.reqId, f);
      }
      return;
    }
    const known = this.failing.get(id);
    if (known) foldLine(known, rec);
    else if (relevant) {
      const f = newFacts(id);
      foldLine(f, rec);
      this.failing.set(id, f);
    }
  }

  /** Procedures by number of 5xx, most first (ties: most recent first). */
  ranking(): ProcedureRank[] {
    const by = new Map<string, ProcedureRank & { lastMs: number; firstMs: number }>();
    for (const f of this.failing.values()) {
      const status = effectiveStatus(f);
      if (status === undefined || status < 500) continue;
      const procs = f.procedures.length
        ? f.procedures
        : [f.url ? `(not tRPC) ${f.url.split('?')[0]}` : '(unknown)'];
      for (const p of procs) {
        const key = p.startsWith('(') ? p : procedurePath(p);
        let r = by.get(key);
        if (!r) {
          r = {
            procedure: key,
            count: 0,
            statuses: {},
            error_types: {},
            first_seen: null,
            last_seen: null,
            sample_request_ids: [],
            lastMs: -Infinity,
            firstMs: Infinity,
          };
          by.set(key, r);
        }
        r.count++;
        r.statuses[String(status)] = (r.statuses[String(status)] ?? 0) + 1;
        const type = f.error?.type ?? f.code;
        if (type) r.error_types[type] = (r.error_types[type] ?? 0) + 1;
        if (f.first !== undefined) r.firstMs = Math.min(r.firstMs, f.first);
        if (f.last !== undefined) r.lastMs = Math.max(r.lastMs, f.last);
        if (r.sample_request_ids.length < 3 && !f.reqId.startsWith('line:'))
          r.sample_request_ids.push(f.reqId);
      }
    }
    return [...by.values()]
      .sort((a, b) => b.count - a.count || b.lastMs - a.lastMs || (a.procedure < b.procedure ? -1 : 1))
      .map(({ lastMs, firstMs, ...r }) => ({
        ...r,
        first_seen: Number.isFinite(firstMs) ? new Date(firstMs).toISOString() : null,
        last_seen: Number.isFinite(lastMs) ? new Date(lastMs).toISOString() : null,
      }));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions

/** The runbook's mitigation for "Error 500 frecuente en módulo X". */
export const ERRORS_MITIGATION = {
  en: 'Apply a minimal, safe hotfix to the affected procedure; if there is no immediate fix: feature flag/rollback of the module; document the RCA with root cause + preventive action.',
  es: 'Aplicar hotfix mínimo y seguro en el procedimiento afectado; si no hay fix inmediato: feature flag/rollback del módulo; documentar RCA con causa raíz + acción preventiva.',
};

const both = (en: string, es: string = en) => ({ en, es });

export function decideByProcedure(
  ranking: ProcedureRank[],
  windowMs: number,
  linesInWindow: number,
): Decision {
  const minutes = Math.round(windowMs / 60_000);
  const evidence = { ranking: ranking.slice(0, 20), window_minutes: minutes, lines_in_window: linesInWindow };
  if (!ranking.length)
    return {
      status: 'pass',
      summary: both(
        `no 5xx in the last ${minutes} min (${linesInWindow} log lines)`,
        `sin 5xx en los últimos ${minutes} min (${linesInWindow} líneas de log)`,
      ),
      evidence,
    };
  const total = ranking.reduce((n, r) => n + r.count, 0);
  const top = ranking
    .slice(0, 3)
    .map((r) => `${r.procedure} ${r.count}`)
    .join(', ');
  return {
    status: 'fail',
    summary: both(
      `${total} 5xx in the last ${minutes} min; most: ${top}`,
      `${total} 5xx en los últimos ${minutes} min; más frecuentes: ${top}`,
    ),
    evidence,
    mitigation: ERRORS_MITIGATION,
  };
}

/** One request's finding. `facts` undefined: no line carries that id inside the window. */
export function decideRequest(
  requestId: string,
  facts: RequestFacts | undefined,
  windowMs: number,
): Decision {
  const minutes = Math.round(windowMs / 60_000);
  if (!facts || facts.lines === 0)
    return {
      status: 'warn',
      summary: both(
        `no log line carries request id ${requestId} in the last ${minutes} min (widen --window, or check the log file and that the app logs reqId)`,
        `ninguna línea de log tiene el request id ${requestId} en los últimos ${minutes} min (ampliar --window o revisar el log y que la app registre reqId)`,
      ),
      evidence: { request_id: requestId, window_minutes: minutes },
      mitigation: ERRORS_MITIGATION,
    };
  const status = effectiveStatus(facts);
  const proc = facts.procedures[0];
  const where = proc ? procedurePath(proc) : (facts.url?.split('?')[0] ?? '(unknown endpoint)');
  const payload = facts.input === undefined ? undefined : summarizePayload(facts.input);
  const hints = payload === undefined ? [] : missingKeysHint(payload);
  const errText = facts.error
    ? `${facts.error.type ?? 'Error'}: ${facts.error.message ?? ''}`.trim()
    : facts.code;
  const stackLines = facts.error?.stack ? facts.error.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
  const root = stackRoot(stackLines.map((l) => l.trim()));
  // Most telling first: people's output shows the first few entries (--json shows all).
  const evidence = {
    procedure: where,
    status: status ?? null,
    ...(facts.error?.stack ? { stack: trimStack(facts.error.stack) } : {}),
    ...(payload !== undefined ? { payload } : {}),
    ...(hints.length ? { payload_hints: hints } : {}),
    ...(facts.error
      ? { error: { type: facts.error.type ?? null, message: facts.error.message ?? null } }
      : {}),
    request_id: requestId,
    ...(facts.code ? { trpc_code: facts.code } : {}),
    method: facts.method ?? null,
    ...(facts.procedures.length > 1 ? { procedures: facts.procedures.map(procedurePath) } : {}),
    ...(facts.responseTimeMs !== undefined ? { response_time_ms: facts.responseTimeMs } : {}),
    time: facts.last !== undefined ? new Date(facts.last).toISOString() : null,
    ...(Object.keys(facts.who).length ? { context: facts.who } : {}),
    ...(root ? { stack_root: root } : {}),
    log_lines: facts.lines,
  };
  const method = facts.method ? `${facts.method} ` : '';
  const hint = hints.length ? `; ${hints[0]}` : '';
  if (status !== undefined && status >= 500)
    return {
      status: 'fail',
      summary: both(
        `${method}${where} answered ${status} for request ${requestId}${errText ? `: ${errText}` : ''}${hint}`,
        `${method}${where} respondió ${status} a la petición ${requestId}${errText ? `: ${errText}` : ''}${hint}`,
      ),
      evidence,
      mitigation: ERRORS_MITIGATION,
    };
  if (status !== undefined && status >= 400)
    return {
      status: 'warn',
      summary: both(
        `${method}${where} answered ${status} for request ${requestId} (a client error, not a 500)${errText ? `: ${errText}` : ''}`,
        `${method}${where} respondió ${status} a la petición ${requestId} (error del cliente, no un 500)${errText ? `: ${errText}` : ''}`,
      ),
      evidence,
      mitigation: {
        en: 'Validate the expected input (payload) and the user/role permissions; reproduce in a controlled environment with the same tenant/role.',
        es: 'Validar entrada esperada (payload) y permisos del usuario/rol; reproducir en entorno controlado con mismo tenant/rol.',
      },
    };
  return {
    status: 'pass',
    summary: both(
      `${method}${where} answered ${status ?? '(no status logged)'} for request ${requestId}`,
      `${method}${where} respondió ${status ?? '(sin estado en el log)'} a la petición ${requestId}`,
    ),
    evidence,
  };
}

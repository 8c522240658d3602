/**
 * What the slow and verify checks share: the runbook's mitigations (quoted in both languages), finding builders,
 * and the wrappers that turn "no target" into `skip` and "unreachable" into `fail` for MySQL and Redis checks.
 */
import type { Bilingual, CheckContext, FindingDraft, FindingStatus } from '../check.js';
import { missingTarget } from '../check.js';
import { withMysql, type MysqlSession, type ProbeOutcome } from '../probes/mysql.js';
import { withRedis, type RedisTarget } from '../probes/redis.js';
import type { Redis } from 'ioredis';

/** The runbook's "La app está lenta" mitigations, quoted (es is the runbook's own wording). */
export const RUNBOOK = {
  indexes: {
    en: 'Runbook: "Apply the missing indexes and restart the queue workers" (Aplicar índices faltantes y reiniciar workers de cola).',
    es: 'Runbook: "Aplicar índices faltantes y reiniciar workers de cola."',
  },
  reduceLoad: {
    en: 'Runbook: "Reduce load temporarily (batch sizes, campaign concurrency)" (Reducir carga temporal).',
    es: 'Runbook: "Reducir carga temporal (batch sizes, concurrencia de campañas)."',
  },
  scale: {
    en: 'Runbook: "Scale the DB/app vertically if saturation is sustained" (Escalar verticalmente DB/app si hay saturación sostenida).',
    es: 'Runbook: "Escalar verticalmente DB/app si hay saturación sostenida."',
  },
} as const satisfies Record<string, Bilingual>;

/** Joins a specific first step with runbook quotes into one mitigation. */
export function mitigation(first: Bilingual | null, ...quotes: Bilingual[]): Bilingual {
  const parts = first ? [first, ...quotes] : quotes;
  return { en: parts.map((p) => p.en).join(' '), es: parts.map((p) => p.es).join(' ') };
}

export const GROUPS = {
  mysql: { en: 'MySQL', es: 'MySQL' },
  redis: { en: 'Redis', es: 'Redis' },
  queues: { en: 'Queues', es: 'Colas' },
  indexes: { en: 'Tenant indexes', es: 'Índices por tenant' },
  queries: { en: 'Tenant queries', es: 'Consultas por tenant' },
  migrations: { en: 'Migrations', es: 'Migraciones' },
} as const satisfies Record<string, Bilingual>;

/** A check's fixed words. */
export interface CheckMeta {
  id: string;
  group: Bilingual;
  title: Bilingual;
}

/** Builds a draft; `mitigation` is dropped on pass/skip (the contract: present on warn/fail). */
export function draft(
  meta: CheckMeta,
  status: FindingStatus,
  summary: Bilingual,
  evidence: Record<string, unknown>,
  mit?: Bilingual,
): FindingDraft {
  const d: FindingDraft = { id: meta.id, group: meta.group, title: meta.title, status, summary, evidence };
  if (mit && (status === 'warn' || status === 'fail')) d.mitigation = mit;
  return d;
}

/** A decision of a pure function: status, summary, evidence and (for warn/fail) mitigation. */
export interface Decision {
  status: FindingStatus;
  summary: Bilingual;
  evidence: Record<string, unknown>;
  mitigation?: Bilingual;
}

export function fromDecision(
  meta: CheckMeta,
  d: Decision,
  extraEvidence: Record<string, unknown> = {},
): FindingDraft {
  return draft(meta, d.status, d.summary, { ...extraEvidence, ...d.evidence }, d.mitigation);
}

const UNREACHABLE_MITIGATION = mitigation(
  {
    en: 'Check that the server is up and reachable from here (host, port, firewall, credentials).',
    es: 'Comprobar que el servidor está levantado y accesible desde aquí (host, puerto, firewall, credenciales).',
  },
  RUNBOOK.scale,
);

/** The fail finding of a probe that could not connect or whose statement failed. */
export function probeFailure(
  meta: CheckMeta,
  kind: 'MySQL' | 'Redis',
  outcome: Extract<ProbeOutcome<unknown>, { ok: false }>,
  mit: Bilingual = UNREACHABLE_MITIGATION,
): FindingDraft {
  const evidence = {
    target: outcome.target,
    phase: outcome.phase,
    error: outcome.message,
    code: outcome.code,
  };
  if (outcome.phase === 'connect')
    return draft(
      meta,
      'fail',
      {
        en: `${kind} at ${outcome.target} is unreachable: ${outcome.message}`,
        es: `${kind} en ${outcome.target} no responde: ${outcome.message}`,
      },
      evidence,
      mit,
    );
  return draft(
    meta,
    'fail',
    {
      en: `the query against ${kind} at ${outcome.target} failed: ${outcome.message}`,
      es: `la consulta a ${kind} en ${outcome.target} falló: ${outcome.message}`,
    },
    evidence,
    mit,
  );
}

/** Runs a MySQL check: skip without a DSN, fail when unreachable or when a statement fails unexpectedly. */
export async function mysqlCheck(
  ctx: CheckContext,
  meta: CheckMeta,
  body: (session: MysqlSession) => Promise<FindingDraft | FindingDraft[]>,
): Promise<FindingDraft | FindingDraft[]> {
  const dsn = ctx.targets.mysqlDsn;
  if (!dsn) return draft(meta, 'skip', missingTarget(ctx.targets, 'mysqlDsn'), {});
  const outcome = await withMysql(dsn, body, { signal: ctx.signal, secrets: ctx.secrets });
  if (outcome.ok) return outcome.value;
  return probeFailure(meta, 'MySQL', outcome);
}

/** Runs a Redis check: skip without a URL, fail when unreachable or when a command fails unexpectedly. */
export async function redisCheck(
  ctx: CheckContext,
  meta: CheckMeta,
  body: (client: Redis, target: RedisTarget) => Promise<FindingDraft | FindingDraft[]>,
): Promise<FindingDraft | FindingDraft[]> {
  const url = ctx.targets.redisUrl;
  if (!url) return draft(meta, 'skip', missingTarget(ctx.targets, 'redisUrl'), {});
  const outcome = await withRedis(url, body, { signal: ctx.signal, secrets: ctx.secrets });
  if (outcome.ok) return outcome.value;
  return probeFailure(meta, 'Redis', outcome);
}

/** The skip a MySQL check ends in when the DSN names no database. */
export function noDatabase(meta: CheckMeta, target: string): FindingDraft {
  return draft(
    meta,
    'skip',
    {
      en: `the MySQL DSN ${target} names no database: add the app's schema to the DSN path (mysql://…/app)`,
      es: `el DSN de MySQL ${target} no indica base de datos: añade el esquema de la app a la ruta (mysql://…/app)`,
    },
    { target },
  );
}

/** "a, b, c and 3 more" — for summaries that must stay one sentence. */
export function listNames(names: readonly string[], max = 8, lang: 'en' | 'es' = 'en'): string {
  if (names.length <= max) return names.join(', ');
  const more = names.length - max;
  return `${names.slice(0, max).join(', ')} ${lang === 'en' ? `and ${more} more` : `y ${more} más`}`;
}

/** Truncates long text for evidence. */
export function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A command some servers refuse (managed Redis often disables CONFIG or LATENCY): null instead of an error. */
export async function optional<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch {
    return null;
  }
}

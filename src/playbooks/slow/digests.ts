/**
 * The `slow.statement_digests` check: the heaviest statement digests from performance_schema, or the slow query
 * log where performance_schema is off (as MariaDB ships it).
 */
import type { CheckContext, CheckDefinition } from '../check.js';
import type { MysqlSession } from '../probes/mysql.js';
import {
  GROUPS,
  RUNBOOK,
  clip,
  draft,
  fromDecision,
  mitigation,
  mysqlCheck,
  type CheckMeta,
  type Decision,
} from './common.js';
import { APP_DIGESTS_ONLY, summarizeSlowLog, type SlowLogEntry } from './statements.js';

// ---------------------------------------------------------------------------------------------------------------
// slow.statement_digests

/** One row of events_statements_summary_by_digest, times in ms. */
export interface DigestRow {
  schema: string | null;
  digestText: string;
  calls: number;
  totalMs: number;
  avgMs: number;
  maxMs: number;
  rowsExamined: number;
  rowsSent: number;
  noIndexUsed: number;
}

/** Average statement time (ms) that warns and that fails: the runbook's symptom is "tiempos > 2-3s". */
export const DIGEST_WARN_MS = 1_000;
export const DIGEST_FAIL_MS = 3_000;

export function judgeDigests(rows: readonly DigestRow[], fullScanRows: number): Decision {
  const top = rows.map((r) => ({
    schema: r.schema,
    digest: clip(r.digestText, 300),
    calls: r.calls,
    total_ms: Math.round(r.totalMs),
    avg_ms: Math.round(r.avgMs * 10) / 10,
    max_ms: Math.round(r.maxMs),
    rows_examined_per_call: r.calls ? Math.round(r.rowsExamined / r.calls) : 0,
    rows_sent_per_call: r.calls ? Math.round(r.rowsSent / r.calls) : 0,
    no_index_used: r.noIndexUsed,
  }));
  const evidence = { source: 'performance_schema.events_statements_summary_by_digest', top };
  const verySlow = top.filter((d) => d.avg_ms >= DIGEST_FAIL_MS);
  const slow = top.filter((d) => d.avg_ms >= DIGEST_WARN_MS);
  const scans = top.filter((d) => d.no_index_used > 0 && d.rows_examined_per_call > fullScanRows);
  const name = (d: (typeof top)[number]) => `"${clip(d.digest, 80)}" (avg ${d.avg_ms} ms, ${d.calls} calls)`;
  const nombre = (d: (typeof top)[number]) =>
    `"${clip(d.digest, 80)}" (media ${d.avg_ms} ms, ${d.calls} ejecuciones)`;
  const mit = mitigation(
    {
      en: 'EXPLAIN the top digests with a real tenant id and index what they scan.',
      es: 'Hacer EXPLAIN de los digests principales con un tenant real e indexar lo que recorren.',
    },
    RUNBOOK.indexes,
    RUNBOOK.reduceLoad,
  );
  if (verySlow.length)
    return {
      status: 'fail',
      summary: {
        en: `statements averaging ${DIGEST_FAIL_MS / 1000} s or more: ${verySlow.map(name).join('; ')}`,
        es: `sentencias con media de ${DIGEST_FAIL_MS / 1000} s o más: ${verySlow.map(nombre).join('; ')}`,
      },
      evidence,
      mitigation: mit,
    };
  if (slow.length || scans.length) {
    const parts = [...slow, ...scans.filter((s) => !slow.includes(s))];
    return {
      status: 'warn',
      summary: {
        en: `slow or unindexed statements among the top digests: ${parts.map(name).join('; ')}`,
        es: `sentencias lentas o sin índice entre los digests principales: ${parts.map(nombre).join('; ')}`,
      },
      evidence,
      mitigation: mit,
    };
  }
  return {
    status: 'pass',
    summary: {
      en: top.length
        ? `the top ${top.length} statement digests average under ${DIGEST_WARN_MS} ms and none scans over ${fullScanRows} rows without an index`
        : 'performance_schema has no statement digests for this schema yet',
      es: top.length
        ? `los ${top.length} digests principales tienen media bajo ${DIGEST_WARN_MS} ms y ninguno recorre más de ${fullScanRows} filas sin índice`
        : 'performance_schema aún no tiene digests de sentencias para este esquema',
    },
    evidence,
  };
}

const DIGESTS: CheckMeta = {
  id: 'slow.statement_digests',
  group: GROUPS.mysql,
  title: { en: 'Top statement digests', es: 'Sentencias más costosas (digests)' },
};

const TIME_TO_SECONDS = (t: unknown): number => {
  if (typeof t === 'number') return t;
  const m = /^(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(String(t));
  if (!m) return Number(t) || 0;
  return Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
};

async function digestsBody(ctx: CheckContext, session: MysqlSession) {
  const [vars] = await session.query<Record<string, unknown>>(
    `SELECT @@performance_schema AS ps, @@slow_query_log AS slow_on, @@log_output AS log_output,
            @@slow_query_log_file AS slow_file, @@long_query_time AS long_query_time, @@datadir AS datadir`,
  );
  const psOn = Number(vars?.ps ?? 0) === 1;
  const base = { target: session.target, server: session.version, schema: session.database ?? null };
  if (psOn) {
    ctx.probing?.(`performance_schema digests on ${session.target}`);
    let consumerOn = true;
    try {
      const [c] = await session.query<{ enabled: string }>(
        `SELECT ENABLED AS enabled FROM performance_schema.setup_consumers WHERE NAME = 'statements_digest'`,
      );
      consumerOn = !c || String(c.enabled).toUpperCase() === 'YES';
    } catch {
      // no SELECT on setup_consumers: try the digests anyway
    }
    if (!consumerOn)
      return draft(
        DIGESTS,
        'skip',
        {
          en: "performance_schema is ON but its statements_digest consumer is disabled: enable it (UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME = 'statements_digest')",
          es: "performance_schema está ON pero el consumer statements_digest está desactivado: actívalo (UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME = 'statements_digest')",
        },
        { ...base, performance_schema: 'ON', statements_digest: 'NO' },
      );
    let rows: Record<string, unknown>[];
    try {
      rows = await session.query<Record<string, unknown>>(
        `SELECT SCHEMA_NAME AS schema_name, DIGEST_TEXT AS digest_text, COUNT_STAR AS calls,
                SUM_TIMER_WAIT / 1000000000 AS total_ms, AVG_TIMER_WAIT / 1000000000 AS avg_ms,
                MAX_TIMER_WAIT / 1000000000 AS max_ms, SUM_ROWS_EXAMINED AS rows_examined,
                SUM_ROWS_SENT AS rows_sent, SUM_NO_INDEX_USED AS no_index_used
           FROM performance_schema.events_statements_summary_by_digest
          WHERE DIGEST_TEXT IS NOT NULL ${session.database ? 'AND SCHEMA_NAME = ?' : ''} ${APP_DIGESTS_ONLY}
          ORDER BY SUM_TIMER_WAIT DESC LIMIT 5`,
        session.database ? [session.database] : [],
      );
    } catch (err) {
      return draft(
        DIGESTS,
        'skip',
        {
          en: `performance_schema is ON but its digests cannot be read: ${(err as Error).message} (grant SELECT ON performance_schema.*)`,
          es: `performance_schema está ON pero no se pueden leer sus digests: ${(err as Error).message} (concede SELECT ON performance_schema.*)`,
        },
        { ...base, performance_schema: 'ON' },
      );
    }
    const digests: DigestRow[] = rows.map((r) => ({
      schema: r.schema_name === null ? null : String(r.schema_name),
      digestText: String(r.digest_text ?? ''),
      calls: Number(r.calls ?? 0),
      totalMs: Number(r.total_ms ?? 0),
      avgMs: Number(r.avg_ms ?? 0),
      maxMs: Number(r.max_ms ?? 0),
      rowsExamined: Number(r.rows_examined ?? 0),
      rowsSent: Number(r.rows_sent ?? 0),
      noIndexUsed: Number(r.no_index_used ?? 0),
    }));
    return fromDecision(DIGESTS, judgeDigests(digests, ctx.targets.thresholds.fullScanRows), {
      ...base,
      performance_schema: 'ON',
    });
  }

  // performance_schema is OFF (MariaDB's default): say so, and fall back to the slow query log.
  const psOff = {
    en: `performance_schema is OFF on ${session.target} (MariaDB ships it off; set performance_schema=ON in the server config and restart to get statement digests)`,
    es: `performance_schema está OFF en ${session.target} (MariaDB lo trae apagado; pon performance_schema=ON en la configuración del servidor y reinicia para tener digests)`,
  };
  const slowOn = Number(vars?.slow_on ?? 0) === 1;
  const output = String(vars?.log_output ?? '').toUpperCase();
  const longQueryTime = Number(vars?.long_query_time ?? 0);
  const slowFile = String(vars?.slow_file ?? '');
  const slowPath = slowFile.startsWith('/') ? slowFile : `${String(vars?.datadir ?? '')}${slowFile}`;
  const logInfo = {
    slow_query_log: slowOn ? 'ON' : 'OFF',
    log_output: output,
    long_query_time_s: longQueryTime,
  };
  if (!slowOn)
    return draft(
      DIGESTS,
      'skip',
      {
        en: `${psOff.en}; the slow query log is OFF too (SET GLOBAL slow_query_log = ON)`,
        es: `${psOff.es}; el slow query log también está OFF (SET GLOBAL slow_query_log = ON)`,
      },
      { ...base, performance_schema: 'OFF', ...logInfo },
    );
  if (!output.includes('TABLE'))
    return draft(
      DIGESTS,
      'skip',
      {
        en: `${psOff.en}; the slow query log (long_query_time ${longQueryTime} s) is written to the file ${slowPath} on the database host: read it there (mysqldumpslow / pt-query-digest)`,
        es: `${psOff.es}; el slow query log (long_query_time ${longQueryTime} s) se escribe en el fichero ${slowPath} del servidor de base de datos: léelo allí (mysqldumpslow / pt-query-digest)`,
      },
      { ...base, performance_schema: 'OFF', ...logInfo, slow_query_log_file: slowPath },
    );
  ctx.probing?.(`mysql.slow_log on ${session.target}`);
  let entries: SlowLogEntry[];
  try {
    const rows = await session.query<Record<string, unknown>>(
      `SELECT query_time, rows_examined, CONVERT(sql_text USING utf8mb4) AS sql_text
         FROM mysql.slow_log
        WHERE start_time >= NOW() - INTERVAL 1 HOUR ${session.database ? 'AND db = ?' : ''}
        ORDER BY start_time DESC LIMIT 1000`,
      session.database ? [session.database] : [],
    );
    entries = rows.map((r) => ({
      sql: String(r.sql_text ?? ''),
      queryTimeS: TIME_TO_SECONDS(r.query_time),
      rowsExamined: Number(r.rows_examined ?? 0),
    }));
  } catch (err) {
    return draft(
      DIGESTS,
      'skip',
      {
        en: `${psOff.en}; the slow query log table cannot be read: ${(err as Error).message}`,
        es: `${psOff.es}; no se puede leer la tabla del slow query log: ${(err as Error).message}`,
      },
      { ...base, performance_schema: 'OFF', ...logInfo },
    );
  }
  const top = summarizeSlowLog(entries);
  const evidence = {
    ...base,
    performance_schema: 'OFF',
    ...logInfo,
    source: 'mysql.slow_log (last hour)',
    slow_statements: entries.length,
    top,
  };
  if (entries.length === 0)
    return draft(
      DIGESTS,
      'skip',
      {
        en: `${psOff.en}; the slow query log (mysql.slow_log) has no statement slower than ${longQueryTime} s in the last hour`,
        es: `${psOff.es}; el slow query log (mysql.slow_log) no tiene sentencias de más de ${longQueryTime} s en la última hora`,
      },
      evidence,
    );
  return draft(
    DIGESTS,
    'warn',
    {
      en: `${entries.length} statements slower than ${longQueryTime} s in the last hour (slow query log; performance_schema is OFF): ${top
        .slice(0, 3)
        .map((g) => `"${clip(g.statement, 80)}" ×${g.count}, max ${g.max_s} s`)
        .join('; ')}`,
      es: `${entries.length} sentencias de más de ${longQueryTime} s en la última hora (slow query log; performance_schema está OFF): ${top
        .slice(0, 3)
        .map((g) => `"${clip(g.statement, 80)}" ×${g.count}, máx. ${g.max_s} s`)
        .join('; ')}`,
    },
    evidence,
    mitigation(
      {
        en: 'EXPLAIN these statements with a real tenant id and index what they scan.',
        es: 'Hacer EXPLAIN de estas sentencias con un tenant real e indexar lo que recorren.',
      },
      RUNBOOK.indexes,
      RUNBOOK.reduceLoad,
    ),
  );
}

export const digestsCheck: CheckDefinition = {
  ...DIGESTS,
  run: (ctx: CheckContext) => mysqlCheck(ctx, DIGESTS, (session) => digestsBody(ctx, session)),
};

/**
 * `verify tenant-performance` and `diagnose slow`'s tenant query check: `EXPLAIN FORMAT=JSON` of each per-tenant
 * query with a real tenant id, flagging full scans that examine more than `thresholds.fullScanRows` rows.
 * Configured queries write the tenant id as `:tenant`; it is bound as a client-side escaped string (an INT tenant
 * column compares with a string constant through its index; a VARCHAR one would not with a number).
 * EXPLAIN plans the statement without running it.
 */
import type { CheckContext, CheckDefinition, FindingDraft } from '../check.js';
import type { MysqlSession } from '../probes/mysql.js';
import { quoteIdent } from '../probes/mysql.js';
import {
  GROUPS,
  RUNBOOK,
  clip,
  draft,
  listNames,
  mitigation,
  mysqlCheck,
  noDatabase,
  type CheckMeta,
} from '../slow/common.js';
import { explainMessages, judgePlan, parseExplain, type ExplainAccess, type PlanVerdict } from './explain.js';
import { loadTenantIndexAudit } from './tenant-indexes.js';

export interface TenantQuery {
  name: string;
  sql: string;
}

/** Replaces every `:tenant` placeholder with `?` and returns the matching parameters. */
export function bindTenant(sql: string, tenantId: string): { sql: string; params: string[] } {
  const params: string[] = [];
  const bound = sql.replace(/:tenant\b/g, () => {
    params.push(tenantId);
    return '?';
  });
  return { sql: bound, params };
}

/** The query `verify tenant-performance` explains for a tenant table when no query is configured. */
export function generatedQuery(table: string, column: string): TenantQuery {
  return {
    name: `${table} (${column} = :tenant)`,
    sql: `SELECT * FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)} = :tenant LIMIT 50`,
  };
}

export interface QueryPlan {
  name: string;
  sql: string;
  accesses: ExplainAccess[];
  messages: string[];
  verdict: PlanVerdict | null;
  /** EXPLAIN itself failed (syntax, unknown table, permission). */
  error?: string;
}

/** Explains each query for the tenant, one statement at a time on the session's connection. */
export async function explainTenantQueries(
  session: MysqlSession,
  queries: readonly TenantQuery[],
  tenantId: string,
  fullScanRows: number,
  probing?: (what: string) => void,
): Promise<QueryPlan[]> {
  const plans: QueryPlan[] = [];
  for (const q of queries) {
    const { sql, params } = bindTenant(q.sql.trim().replace(/;\s*$/, ''), tenantId);
    probing?.(`EXPLAIN of ${q.name} on ${session.target}`);
    try {
      const rows = await session.query<Record<string, unknown>>(`EXPLAIN FORMAT=JSON ${sql}`, params);
      const text = String(Object.values(rows[0] ?? {})[0] ?? '{}');
      const accesses = parseExplain(text, session.flavour);
      plans.push({
        name: q.name,
        sql: q.sql,
        accesses,
        messages: explainMessages(text),
        verdict: judgePlan(accesses, fullScanRows),
      });
    } catch (err) {
      plans.push({
        name: q.name,
        sql: q.sql,
        accesses: [],
        messages: [],
        verdict: null,
        error: (err as Error).message,
      });
    }
  }
  return plans;
}

function describeScan(a: ExplainAccess, lang: 'en' | 'es'): string {
  const rows = `~${a.rows ?? '?'} ${lang === 'en' ? 'rows' : 'filas'}`;
  const index = a.possibleKeys.length
    ? `${lang === 'en' ? 'ignoring' : 'ignorando'} ${a.possibleKeys.join('/')}`
    : lang === 'en'
      ? 'no usable index'
      : 'sin índice utilizable';
  return `${a.table} (ALL, ${rows}, ${index})`;
}

/** The finding for a set of explained queries. */
export function tenantPlanFinding(
  meta: CheckMeta,
  plans: readonly QueryPlan[],
  tenantId: string,
  fullScanRows: number,
  extra: Record<string, unknown> = {},
): FindingDraft {
  const evidence = {
    ...extra,
    tenant_id: tenantId,
    full_scan_rows_threshold: fullScanRows,
    queries: plans.map((p) => ({
      name: p.name,
      sql: clip(p.sql, 500),
      status: p.error ? 'error' : p.verdict?.status,
      ...(p.error ? { error: p.error } : {}),
      plan: p.accesses.map((a) => ({
        table: a.table,
        access_type: a.accessType,
        rows: a.rows,
        key: a.key,
        possible_keys: a.possibleKeys,
      })),
      ...(p.messages.length ? { messages: p.messages } : {}),
    })),
  };
  const errors = plans.filter((p) => p.error);
  const failing = plans.filter((p) => p.verdict?.status === 'fail');
  const warning = plans.filter((p) => p.verdict?.status === 'warn');
  const scanText = (ps: readonly QueryPlan[], lang: 'en' | 'es') =>
    ps.map((p) => `${p.name}: ${(p.verdict?.fullScans ?? []).map((a) => describeScan(a, lang)).join(', ')}`);
  if (failing.length || errors.length) {
    const en = [
      ...(failing.length
        ? [
            `full scans over ${fullScanRows} rows for tenant ${tenantId} in ${listNames(scanText(failing, 'en'), 6, 'en')}`,
          ]
        : []),
      ...(errors.length
        ? [`EXPLAIN failed for ${errors.map((p) => `${p.name} (${clip(p.error ?? '', 120)})`).join(', ')}`]
        : []),
    ];
    const es = [
      ...(failing.length
        ? [
            `recorridos completos de más de ${fullScanRows} filas para el tenant ${tenantId} en ${listNames(scanText(failing, 'es'), 6, 'es')}`,
          ]
        : []),
      ...(errors.length
        ? [`EXPLAIN falló en ${errors.map((p) => `${p.name} (${clip(p.error ?? '', 120)})`).join(', ')}`]
        : []),
    ];
    return draft(
      meta,
      'fail',
      { en: en.join('; '), es: es.join('; ') },
      evidence,
      mitigation(
        {
          en: `Index the scanned tables by the tenant column (guardia verify tenant-indexes prints the CREATE INDEX statements) and check the queries with EXPLAIN again.`,
          es: `Indexar las tablas recorridas por la columna de tenant (guardia verify tenant-indexes muestra los CREATE INDEX) y repetir el EXPLAIN.`,
        },
        RUNBOOK.indexes,
        RUNBOOK.reduceLoad,
      ),
    );
  }
  if (warning.length)
    return draft(
      meta,
      'warn',
      {
        en: `the optimizer prefers a full scan over the tenant index for tenant ${tenantId} (the tenant holds most of the table) in ${listNames(scanText(warning, 'en'), 6, 'en')}`,
        es: `el optimizador prefiere un recorrido completo al índice de tenant para el tenant ${tenantId} (el tenant ocupa casi toda la tabla) en ${listNames(scanText(warning, 'es'), 6, 'es')}`,
      },
      evidence,
      mitigation(
        {
          en: 'Add a composite index (tenant column first, then the ORDER BY/filter column) or paginate these queries.',
          es: 'Añadir un índice compuesto (primero la columna de tenant, luego la de ORDER BY/filtro) o paginar estas consultas.',
        },
        RUNBOOK.reduceLoad,
        RUNBOOK.scale,
      ),
    );
  return draft(
    meta,
    'pass',
    {
      en: `${plans.length} tenant ${plans.length === 1 ? 'query uses' : 'queries use'} an index or read at most ${fullScanRows} rows per scan for tenant ${tenantId}`,
      es: `${plans.length === 1 ? 'la consulta' : `las ${plans.length} consultas`} por tenant ${plans.length === 1 ? 'usa' : 'usan'} un índice o leen como mucho ${fullScanRows} filas por recorrido para el tenant ${tenantId}`,
    },
    evidence,
  );
}

const NO_TENANT = {
  en: 'no tenant given: pass --tenant <id> (a real TENANT_ID, as the runbook asks)',
  es: 'no se indicó tenant: usa --tenant <id> (un TENANT_ID real, como pide el runbook)',
};

/** `slow.tenant_queries`: the configured queries only; skips without a tenant or without queries. */
export function tenantQueriesCheck(meta: CheckMeta): CheckDefinition {
  return {
    id: meta.id,
    group: meta.group,
    title: meta.title,
    run: async (ctx: CheckContext) => {
      const tenantId = ctx.options.tenantId;
      if (!tenantId) return draft(meta, 'skip', NO_TENANT, {});
      const queries = ctx.targets.tenantQueries;
      if (queries.length === 0)
        return draft(
          meta,
          'skip',
          {
            en: 'no tenant queries configured: list them in playbooks.tenant_queries (name, sql with :tenant)',
            es: 'no hay consultas por tenant configuradas: defínelas en playbooks.tenant_queries (name, sql con :tenant)',
          },
          { tenant_id: tenantId },
        );
      return mysqlCheck(ctx, meta, async (session) => {
        const threshold = ctx.targets.thresholds.fullScanRows;
        const plans = await explainTenantQueries(session, queries, tenantId, threshold, ctx.probing);
        return tenantPlanFinding(meta, plans, tenantId, threshold, { server: session.version });
      });
    },
  };
}

/** `verify.tenant_performance`: the configured queries, or one generated query per tenant table when none is
 *  configured. Requires --tenant. */
export function tenantPerformanceCheck(meta: CheckMeta): CheckDefinition {
  return {
    id: meta.id,
    group: meta.group,
    title: meta.title,
    run: async (ctx: CheckContext) => {
      const tenantId = ctx.options.tenantId;
      if (!tenantId) return draft(meta, 'skip', NO_TENANT, {});
      return mysqlCheck(ctx, meta, async (session) => {
        const threshold = ctx.targets.thresholds.fullScanRows;
        let queries: readonly TenantQuery[] = ctx.targets.tenantQueries;
        let source = 'configured';
        if (queries.length === 0) {
          if (!session.database) return noDatabase(meta, session.target);
          const audit = await loadTenantIndexAudit(session, session.database, ctx.targets.tenantColumn);
          queries = audit.tables.map((t) => generatedQuery(t, ctx.targets.tenantColumn));
          source = 'generated';
          if (queries.length === 0)
            return draft(
              meta,
              'skip',
              {
                en: `no tenant queries configured and no table of ${session.database} has a column ${ctx.targets.tenantColumn}`,
                es: `no hay consultas por tenant configuradas y ninguna tabla de ${session.database} tiene la columna ${ctx.targets.tenantColumn}`,
              },
              { tenant_id: tenantId },
            );
        }
        const plans = await explainTenantQueries(session, queries, tenantId, threshold, ctx.probing);
        return tenantPlanFinding(meta, plans, tenantId, threshold, {
          server: session.version,
          queries_source: source,
        });
      });
    },
  };
}

export const VERIFY_TENANT_PERFORMANCE: CheckMeta = {
  id: 'verify.tenant_performance',
  group: GROUPS.queries,
  title: {
    en: 'Per-tenant queries use an index for a real tenant',
    es: 'Las consultas por tenant usan un índice para un tenant real',
  },
};

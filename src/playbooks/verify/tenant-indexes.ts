/**
 * `verify tenant-indexes` (and its summary in `diagnose slow`): every base table of the app's schema that has the
 * tenant column must have an index whose FIRST column is the tenant column — otherwise every per-tenant query on
 * it scans the whole table. Read from information_schema in two statements for the whole schema (never one per
 * table): the tables having the column, and the index positions of that column.
 */
import type { CheckContext, CheckDefinition, FindingDraft } from '../check.js';
import type { MysqlSession } from '../probes/mysql.js';
import { quoteIdent } from '../probes/mysql.js';
import {
  GROUPS,
  RUNBOOK,
  draft,
  listNames,
  mitigation,
  mysqlCheck,
  noDatabase,
  type CheckMeta,
} from '../slow/common.js';

/** A table having the tenant column. */
export interface TenantTableRow {
  table: string;
  /** information_schema.TABLES.TABLE_TYPE: `BASE TABLE`, `VIEW`, `SYSTEM VERSIONED`, `SEQUENCE`… */
  type: string;
  /** The optimizer's row estimate (TABLE_ROWS), when known. */
  rows?: number | null;
}

/** One index containing the tenant column, at `position` (SEQ_IN_INDEX, 1 = first). */
export interface TenantIndexRow {
  table: string;
  index: string;
  position: number;
}

export interface UnindexedTable {
  table: string;
  rows: number | null;
  /** Indexes where the tenant column appears, but not first (`idx_x@2`). */
  tenantColumnElsewhere: string[];
  /** The statement that fixes it. */
  suggestion: string;
}

export interface TenantIndexAudit {
  column: string;
  /** Base tables having the column, sorted. */
  tables: string[];
  /** Views (and other non-base tables) with the column: not checked, listed for the record. */
  skipped: string[];
  /** Base tables with no index starting with the column, sorted by name. */
  unindexed: UnindexedTable[];
}

const BASE_TYPES = new Set(['BASE TABLE', 'SYSTEM VERSIONED']);

/** `CREATE INDEX` for a table lacking its tenant index (name ≤ 64 characters, MySQL's identifier limit). */
export function suggestIndex(table: string, column: string): string {
  const name = `idx_${table}_${column}`.slice(0, 64);
  return `CREATE INDEX ${quoteIdent(name)} ON ${quoteIdent(table)} (${quoteIdent(column)});`;
}

/** The pure decision: which base tables having the tenant column lack an index that starts with it. */
export function auditTenantIndexes(
  tables: readonly TenantTableRow[],
  indexes: readonly TenantIndexRow[],
  column: string,
): TenantIndexAudit {
  const base = tables.filter((t) => BASE_TYPES.has(t.type.toUpperCase()));
  const skipped = tables.filter((t) => !BASE_TYPES.has(t.type.toUpperCase())).map((t) => t.table);
  const firstIndexed = new Set(indexes.filter((i) => i.position === 1).map((i) => i.table));
  const unindexed = base
    .filter((t) => !firstIndexed.has(t.table))
    .map((t) => ({
      table: t.table,
      rows: t.rows ?? null,
      tenantColumnElsewhere: indexes
        .filter((i) => i.table === t.table && i.position !== 1)
        .map((i) => `${i.index}@${i.position}`)
        .sort(),
      suggestion: suggestIndex(t.table, column),
    }))
    .sort((a, b) => a.table.localeCompare(b.table));
  return {
    column,
    tables: base.map((t) => t.table).sort(),
    skipped: skipped.sort(),
    unindexed,
  };
}

/** Reads the schema's tables having `column` and the positions of `column` in their indexes: two statements. */
export async function loadTenantIndexAudit(
  session: MysqlSession,
  schema: string,
  column: string,
): Promise<TenantIndexAudit> {
  const tables = await session.query<{ table_name: string; table_type: string; table_rows: number | null }>(
    `SELECT c.TABLE_NAME AS table_name, t.TABLE_TYPE AS table_type, t.TABLE_ROWS AS table_rows
       FROM information_schema.COLUMNS c
       JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA = ? AND t.TABLE_SCHEMA = ? AND c.COLUMN_NAME = ?`,
    [schema, schema, column],
  );
  const indexes = await session.query<{ table_name: string; index_name: string; seq: number }>(
    `SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, SEQ_IN_INDEX AS seq
       FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND COLUMN_NAME = ?`,
    [schema, column],
  );
  return auditTenantIndexes(
    tables.map((r) => ({
      table: r.table_name,
      type: r.table_type,
      rows: r.table_rows === null ? null : Number(r.table_rows),
    })),
    indexes.map((r) => ({ table: r.table_name, index: r.index_name, position: Number(r.seq) })),
    column,
  );
}

/** The finding of an audit. `detail` lists one CREATE INDEX per table (verify); otherwise a summary (slow). */
export function tenantIndexFinding(
  meta: CheckMeta,
  schema: string,
  audit: TenantIndexAudit,
  detail: boolean,
): FindingDraft {
  const col = audit.column;
  const base = { schema, tenant_column: col, tables_with_tenant_column: audit.tables.length };
  if (audit.tables.length === 0)
    return draft(
      meta,
      'skip',
      {
        en: `no base table in schema ${schema} has a column ${col}: nothing to check (set playbooks.tenant_column if the app names it differently)`,
        es: `ninguna tabla del esquema ${schema} tiene la columna ${col}: nada que comprobar (define playbooks.tenant_column si la app la llama de otra forma)`,
      },
      { ...base, views_skipped: audit.skipped },
    );
  if (audit.unindexed.length === 0)
    return draft(
      meta,
      'pass',
      {
        en: `all ${audit.tables.length} tables with ${col} have an index whose first column is ${col}`,
        es: `las ${audit.tables.length} tablas con ${col} tienen un índice cuya primera columna es ${col}`,
      },
      { ...base, views_skipped: audit.skipped },
    );
  const names = audit.unindexed.map((u) => u.table);
  const n = names.length;
  const evidence: Record<string, unknown> = detail
    ? {
        ...base,
        tables: names,
        offending: audit.unindexed.map((u) => ({
          table: u.table,
          rows_estimate: u.rows,
          tenant_column_in: u.tenantColumnElsewhere,
          suggestion: u.suggestion,
        })),
        views_skipped: audit.skipped,
      }
    : {
        ...base,
        tables: names,
        suggestions: audit.unindexed.slice(0, 20).map((u) => u.suggestion),
        ...(n > 20 ? { more_suggestions: `run guardia verify tenant-indexes for all ${n}` } : {}),
      };
  return draft(
    meta,
    'fail',
    {
      en: `${n} of ${audit.tables.length} tables with ${col} have no index starting with ${col}: ${listNames(names, detail ? names.length : 8, 'en')}`,
      es: `${n} de ${audit.tables.length} tablas con ${col} no tienen un índice que empiece por ${col}: ${listNames(names, detail ? names.length : 8, 'es')}`,
    },
    evidence,
    mitigation(
      {
        en: `Create the missing indexes: ${audit.unindexed
          .slice(0, detail ? n : 5)
          .map((u) => u.suggestion)
          .join(' ')}${!detail && n > 5 ? ' …' : ''}`,
        es: `Crear los índices que faltan: ${audit.unindexed
          .slice(0, detail ? n : 5)
          .map((u) => u.suggestion)
          .join(' ')}${!detail && n > 5 ? ' …' : ''}`,
      },
      RUNBOOK.indexes,
    ),
  );
}

/** The body shared by `verify.tenant_indexes` and `slow.tenant_indexes`. */
export function tenantIndexCheck(meta: CheckMeta, detail: boolean): CheckDefinition {
  return {
    id: meta.id,
    group: meta.group,
    title: meta.title,
    run: (ctx: CheckContext) =>
      mysqlCheck(ctx, meta, async (session) => {
        if (!session.database) return noDatabase(meta, session.target);
        ctx.probing?.(`information_schema of ${session.database} on ${session.target}`);
        const audit = await loadTenantIndexAudit(session, session.database, ctx.targets.tenantColumn);
        return tenantIndexFinding(meta, session.database, audit, detail);
      }),
  };
}

export const VERIFY_TENANT_INDEXES: CheckMeta = {
  id: 'verify.tenant_indexes',
  group: GROUPS.indexes,
  title: {
    en: 'Every table with the tenant column has an index starting with it',
    es: 'Toda tabla con la columna de tenant tiene un índice que empieza por ella',
  },
};

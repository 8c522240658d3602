/**
 * Reading `EXPLAIN FORMAT=JSON` from MySQL 8 and MariaDB, and deciding whether a per-tenant query scans too much.
 *
 * The two servers agree on the skeleton — a `query_block` whose tables sit under `table` (one table),
 * `nested_loop` (a join: an array of `{table: …}`), wrappers for sorting and grouping, and nested query blocks for
 * subqueries and unions — but not on the names:
 *
 * - MySQL 8 (format version 1, the default): rows per scan in `rows_examined_per_scan` (and
 *   `rows_produced_per_join`), `cost_info` objects, `filtered` as a string ("10.00"); wrappers
 *   `ordering_operation` / `grouping_operation` / `duplicates_removal`, subqueries under `attached_subqueries`,
 *   `materialized_from_subquery`, unions under `union_result.query_specifications`; "Impossible WHERE" as a
 *   `message` on the query block.
 * - MariaDB: rows in `rows`, `filtered` as a number; wrappers `filesort`, `temporary_table`, `read_sorted_file`,
 *   `block-nl-join`, `duplicates_removal`; subqueries under `materialized.materialization.query_block` or
 *   `subqueries`; "Impossible WHERE" as `table: {message}`; ANALYZE adds `r_rows`.
 * - MySQL 8.3+ with `explain_json_format_version=2` writes an iterator tree (`inputs`, `access_type: "table"` for a
 *   full scan, `estimated_rows`); it is read best-effort (full scans and index lookups are recognised).
 *
 * Rather than follow every wrapper by name, the parser walks the whole document and picks up every object that
 * names a table (`table_name`) — every wrapper, old or new, is then covered — and reads the row count from the
 * field the flavour uses.
 */
import type { MysqlFlavour } from '../probes/mysql.js';

/** One table access of a plan. */
export interface ExplainAccess {
  table: string;
  /** `ALL` (full table scan), `index` (full index scan), `range`, `ref`, `eq_ref`, `const`, `system`, … */
  accessType: string;
  /** Rows the optimizer expects to examine per scan of this table (null when the plan does not say). */
  rows: number | null;
  /** The index used, or null. */
  key: string | null;
  /** Indexes the optimizer considered usable. */
  possibleKeys: string[];
  /** Plan-internal tables (`<union1,2>`, `<derived2>`, `<subquery2>`) whose real accesses are listed too. */
  internal: boolean;
}

const V2_ACCESS: Record<string, string> = {
  table: 'ALL',
  index_scan: 'index',
  index_range_scan: 'range',
  index_lookup: 'ref',
};

function toNumber(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Every table access in an `EXPLAIN FORMAT=JSON` document (the text or the parsed value), in document order. */
export function parseExplain(json: unknown, flavour: MysqlFlavour): ExplainAccess[] {
  const doc: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  const out: ExplainAccess[] = [];
  const rowsOf = (o: Record<string, unknown>): number | null => {
    const order =
      flavour === 'mysql'
        ? ['rows_examined_per_scan', 'rows', 'estimated_rows', 'r_rows']
        : ['rows', 'rows_examined_per_scan', 'estimated_rows', 'r_rows'];
    for (const f of order) {
      const n = toNumber(o[f]);
      if (n !== null) return n;
    }
    return null;
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.table_name === 'string' && typeof o.access_type === 'string') {
      const v2 = typeof o.operation === 'string' && 'estimated_rows' in o;
      let accessType = o.access_type;
      if (v2 && accessType === 'index' && typeof o.index_access_type === 'string')
        accessType = V2_ACCESS[o.index_access_type] ?? o.index_access_type;
      else if (v2) accessType = V2_ACCESS[accessType] ?? accessType;
      const key = typeof o.key === 'string' ? o.key : typeof o.index_name === 'string' ? o.index_name : null;
      out.push({
        table: o.table_name,
        accessType,
        rows: rowsOf(o),
        key,
        possibleKeys: strings(o.possible_keys),
        internal: o.table_name.startsWith('<'),
      });
    }
    for (const child of Object.values(o)) if (child && typeof child === 'object') walk(child);
  };
  walk(doc);
  return out;
}

/** The plan's notes that explain an empty access list ("Impossible WHERE", "No tables used"). */
export function explainMessages(json: unknown): string[] {
  const doc: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v)) {
      if (k === 'message' && typeof child === 'string') out.push(child);
      else walk(child);
    }
  };
  walk(doc);
  return out;
}

/** How one query's plan scans. `fullScans` are the accesses over the threshold; `blind` those among them with no
 *  usable index at all (the missing-index case), the others had an index the optimizer chose not to use. */
export interface PlanVerdict {
  status: 'pass' | 'warn' | 'fail';
  fullScans: ExplainAccess[];
  blind: ExplainAccess[];
}

/** A full scan (`ALL`) of a real table examining more than `fullScanRows` rows: with no usable index it fails;
 *  when an index was usable but the optimizer preferred the scan (the tenant holds most of the table), it warns.
 *  Everything else (index lookups, ranges, small tables, plan-internal temporary tables) passes. */
export function judgePlan(accesses: readonly ExplainAccess[], fullScanRows: number): PlanVerdict {
  const fullScans = accesses.filter(
    (a) => !a.internal && a.accessType.toUpperCase() === 'ALL' && (a.rows ?? 0) > fullScanRows,
  );
  const blind = fullScans.filter((a) => a.possibleKeys.length === 0);
  const status = blind.length > 0 ? 'fail' : fullScans.length > 0 ? 'warn' : 'pass';
  return { status, fullScans, blind };
}

/**
 * How `slow.statement_digests` reads statements: normalising a logged statement into a digest-like shape, telling
 * a diagnosis's own statements from the app's workload (in code and in SQL), and summarising the slow query log.
 */
import { clip } from './common.js';

/** Normalises a logged statement into a digest-like shape: literals become `?`, lists collapse, spaces squeeze —
 *  so a slow log summary groups statements and shows no tenant data. */
export function normalizeStatement(sql: string): string {
  return sql
    .replace(/'(?:[^'\\]|\\.|'')*'/g, '?')
    .replace(/"(?:[^"\\]|\\.)*"/g, '?')
    .replace(/\b0x[0-9a-f]+\b/gi, '?')
    .replace(/\b\d+(?:\.\d+)?\b/g, '?')
    .replace(/\(\s*\?(?:\s*,\s*\?)+\s*\)/g, '(…)')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Statements a diagnosis itself sends (this playbook's, a DBA's console): not the app's workload, so neither the
 *  digest ranking nor the slow log summary counts them. */
export function isDiagnosticStatement(sql: string): boolean {
  const s = sql.trim().replace(/^\/\*.*?\*\/\s*/s, '');
  return (
    /^(SHOW|EXPLAIN|ANALYZE|DESCRIBE|DESC|SET|USE|KILL|FLUSH|PREPARE|EXECUTE|DEALLOCATE)\b/i.test(s) ||
    /^SELECT\s+(`?VERSION`?\s*\(|@@|DATABASE\s*\(|`?DATABASE`?\s*\()/i.test(s) ||
    /\b(information_schema|performance_schema|sys)`?\s*\./i.test(s) ||
    /\bmysql`?\s*\.\s*`?slow_log\b/i.test(s) ||
    /`(information_schema|performance_schema)`/i.test(s)
  );
}

/** SQL conditions keeping diagnostic statements out of the digest ranking (the same idea as above, in LIKE). */
export const APP_DIGESTS_ONLY = [
  "DIGEST_TEXT NOT LIKE 'SHOW %'",
  "DIGEST_TEXT NOT LIKE 'EXPLAIN %'",
  "DIGEST_TEXT NOT LIKE 'SET %'",
  "DIGEST_TEXT NOT LIKE 'SELECT @@%'",
  "DIGEST_TEXT NOT LIKE 'SELECT `VERSION` (%'",
  "DIGEST_TEXT NOT LIKE '%information\\_schema%'",
  "DIGEST_TEXT NOT LIKE '%performance\\_schema%'",
  "DIGEST_TEXT NOT LIKE '%`mysql` . `slow_log`%'",
]
  .map((c) => `AND ${c}`)
  .join(' ');

export interface SlowLogEntry {
  sql: string;
  queryTimeS: number;
  rowsExamined: number;
}

/** Groups slow log entries by normalised statement, heaviest total time first. */
export function summarizeSlowLog(entries: readonly SlowLogEntry[], limit = 5) {
  const groups = new Map<
    string,
    { statement: string; count: number; total_s: number; max_s: number; rows_examined: number }
  >();
  for (const e of entries) {
    if (isDiagnosticStatement(e.sql)) continue;
    const key = normalizeStatement(e.sql);
    const g = groups.get(key) ?? {
      statement: clip(key, 300),
      count: 0,
      total_s: 0,
      max_s: 0,
      rows_examined: 0,
    };
    g.count += 1;
    g.total_s += e.queryTimeS;
    g.max_s = Math.max(g.max_s, e.queryTimeS);
    g.rows_examined += e.rowsExamined;
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => b.total_s - a.total_s)
    .slice(0, limit)
    .map((g) => ({
      ...g,
      total_s: Math.round(g.total_s * 1000) / 1000,
      max_s: Math.round(g.max_s * 1000) / 1000,
    }));
}

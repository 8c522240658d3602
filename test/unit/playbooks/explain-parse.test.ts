/**
 * parseExplain/judgePlan on real plans: MariaDB fixtures captured from the MariaDB 10.11 server on this machine,
 * MySQL 8 fixtures written by hand from its documented format (same schema and queries), so the two dialects'
 * different field names are pinned side by side.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  explainMessages,
  judgePlan,
  parseExplain,
  type ExplainAccess,
} from '../../../src/playbooks/verify/explain.js';
import type { MysqlFlavour } from '../../../src/playbooks/probes/mysql.js';

interface Fixture {
  plans: { name: string; sql: string; explain: unknown }[];
}

function load(file: string): Map<string, unknown> {
  const f = JSON.parse(
    readFileSync(new URL(`./explain-fixtures/${file}`, import.meta.url), 'utf8'),
  ) as Fixture;
  return new Map(f.plans.map((p) => [p.name, p.explain]));
}

const mariadb = load('mariadb-10.11.json');
const mysql = load('mysql-8.0.json');

const brief = (a: ExplainAccess) => [a.table, a.accessType, a.rows, a.key];
const parse = (plans: Map<string, unknown>, name: string, flavour: MysqlFlavour) => {
  const plan = plans.get(name);
  if (plan === undefined) throw new Error(`no fixture ${name}`);
  return parseExplain(JSON.stringify(plan), flavour);
};

describe('parseExplain — MariaDB 10.11 (captured)', () => {
  const p = (name: string) => parse(mariadb, name, 'mariadb');

  it('reads an index range access with `rows` from nested_loop', () => {
    expect(p('range_by_tenant_index').map(brief)).toEqual([['leads', 'range', 2000, 'idx_leads_tenant']]);
  });

  it('finds a full scan wrapped in read_sorted_file → filesort', () => {
    expect(p('full_scan_filesort').map(brief)).toEqual([['chat_messages', 'ALL', 6000, null]]);
  });

  it('finds the inner table of a block-nl-join', () => {
    expect(p('block_nl_join').map(brief)).toEqual([
      ['t', 'ALL', 3, null],
      ['l', 'ALL', 6000, null],
    ]);
    expect(p('block_nl_join')[1]!.possibleKeys).toEqual(['idx_leads_tenant']);
  });

  it('walks filesort → temporary_table → nested_loop', () => {
    expect(p('filesort_temporary_join').map(brief)).toEqual([
      ['m', 'ALL', 6000, null],
      ['l', 'ref', 1000, 'idx_leads_tenant'],
    ]);
  });

  it('walks into a materialized subquery and marks <subquery2> internal', () => {
    const accesses = p('materialized_subquery');
    expect(accesses.map(brief)).toEqual([
      ['leads', 'ALL', 6000, null],
      ['<subquery2>', 'eq_ref', 1, 'distinct_key'],
      ['chat_messages', 'ALL', 6000, null],
    ]);
    expect(accesses.map((a) => a.internal)).toEqual([false, true, false]);
  });

  it('walks both sides of a union and marks <union1,2> internal', () => {
    expect(p('union').map((a) => [...brief(a), a.internal])).toEqual([
      ['<union1,2>', 'ALL', null, null, true],
      ['leads', 'ref', 2000, 'idx_leads_tenant', false],
      ['chat_messages', 'ALL', 6000, null, false],
    ]);
  });

  it('reads const access, and no access for an impossible WHERE (with its message)', () => {
    expect(p('const_primary').map(brief)).toEqual([['tenants', 'const', 1, 'PRIMARY']]);
    expect(p('impossible_where')).toEqual([]);
    expect(explainMessages(mariadb.get('impossible_where'))).toEqual(['Impossible WHERE']);
  });
});

describe('parseExplain — MySQL 8 (format version 1, hand-written from the documented format)', () => {
  const p = (name: string) => parse(mysql, name, 'mysql');

  it('reads rows_examined_per_scan (not rows_produced_per_join) under ordering_operation', () => {
    expect(p('ref_by_tenant_index').map(brief)).toEqual([['leads', 'ref', 2000, 'idx_leads_tenant']]);
    expect(p('full_scan_filesort').map(brief)).toEqual([['chat_messages', 'ALL', 5985, null]]);
  });

  it('reads a nested_loop join', () => {
    expect(p('hash_join_nested_loop').map(brief)).toEqual([
      ['t', 'const', 1, 'PRIMARY'],
      ['l', 'ref', 2000, 'idx_leads_tenant'],
    ]);
  });

  it('walks ordering_operation → grouping_operation → nested_loop', () => {
    expect(p('grouping_temporary_join').map(brief)).toEqual([
      ['m', 'ALL', 5985, null],
      ['l', 'ref', 2000, 'idx_leads_tenant'],
    ]);
  });

  it('walks materialized_from_subquery and union query_specifications', () => {
    expect(p('materialized_subquery').map(brief)).toEqual([
      ['leads', 'ref', 2000, 'idx_leads_tenant'],
      ['<subquery2>', 'eq_ref', 1, '<auto_distinct_key>'],
      ['chat_messages', 'ALL', 5985, null],
    ]);
    expect(p('union').map(brief)).toEqual([
      ['<union1,2>', 'ALL', null, null],
      ['leads', 'ref', 2000, 'idx_leads_tenant'],
      ['chat_messages', 'ALL', 5985, null],
    ]);
  });

  it('sees nothing to scan for an impossible WHERE, and keeps its message', () => {
    expect(p('impossible_where')).toEqual([]);
    expect(explainMessages(mysql.get('impossible_where'))).toEqual(['Impossible WHERE']);
  });

  it('reads format version 2: `table` access is a full scan, index_lookup is ref', () => {
    expect(p('format_v2_full_scan').map(brief)).toEqual([['chat_messages', 'ALL', 5985, null]]);
    expect(p('format_v2_index_lookup').map(brief)).toEqual([['leads', 'ref', 2000, 'idx_leads_tenant']]);
  });

  it('prefers the flavour’s row field when a document has both', () => {
    const doc = {
      query_block: { table: { table_name: 't', access_type: 'ALL', rows: 10, rows_examined_per_scan: 20 } },
    };
    expect(parseExplain(doc, 'mysql')[0]!.rows).toBe(20);
    expect(parseExplain(doc, 'mariadb')[0]!.rows).toBe(10);
  });
});

describe('judgePlan', () => {
  it('fails a full scan over the threshold with no usable index, on both servers', () => {
    for (const [plans, flavour] of [
      [mariadb, 'mariadb'],
      [mysql, 'mysql'],
    ] as const) {
      const v = judgePlan(parse(plans, 'full_scan_filesort', flavour), 1000);
      expect(v.status).toBe('fail');
      expect(v.blind.map((a) => a.table)).toEqual(['chat_messages']);
    }
  });

  it('passes index accesses, even over many rows', () => {
    expect(judgePlan(parse(mariadb, 'range_by_tenant_index', 'mariadb'), 1000).status).toBe('pass');
    expect(judgePlan(parse(mysql, 'ref_by_tenant_index', 'mysql'), 1000).status).toBe('pass');
    expect(judgePlan(parse(mysql, 'format_v2_index_lookup', 'mysql'), 1000).status).toBe('pass');
  });

  it('warns when an index was usable but the optimizer chose the scan (the tenant holds most rows)', () => {
    const v = judgePlan(parse(mariadb, 'scan_despite_index', 'mariadb'), 1000);
    expect(v.status).toBe('warn');
    expect(v.fullScans.map((a) => a.table)).toEqual(['leads']);
    expect(v.blind).toEqual([]);
    expect(judgePlan(parse(mysql, 'scan_despite_index', 'mysql'), 1000).status).toBe('warn');
  });

  it('passes small full scans and ignores plan-internal temporary tables', () => {
    expect(judgePlan(parse(mariadb, 'full_scan_filesort', 'mariadb'), 6000).status).toBe('pass');
    const union = judgePlan(parse(mariadb, 'union', 'mariadb'), 1000);
    expect(union.fullScans.map((a) => a.table)).toEqual(['chat_messages']);
  });

  it('passes a plan that reads nothing', () => {
    expect(judgePlan(parse(mariadb, 'impossible_where', 'mariadb'), 1000).status).toBe('pass');
  });
});

/** The tenant verifications' decisions as pure functions (the real schema runs in test/playbooks/verify-*.test.ts). */
import { describe, expect, it } from 'vitest';
import { GROUPS } from '../../../src/playbooks/slow/common.js';
import type { ExplainAccess } from '../../../src/playbooks/verify/explain.js';
import { judgePlan } from '../../../src/playbooks/verify/explain.js';
import {
  auditTenantIndexes,
  suggestIndex,
  tenantIndexFinding,
  VERIFY_TENANT_INDEXES,
} from '../../../src/playbooks/verify/tenant-indexes.js';
import {
  bindTenant,
  generatedQuery,
  tenantPlanFinding,
  type QueryPlan,
} from '../../../src/playbooks/verify/tenant-performance.js';

describe('auditTenantIndexes', () => {
  const tables = [
    { table: 'leads', type: 'BASE TABLE', rows: 7000 },
    { table: 'users', type: 'BASE TABLE', rows: 3 },
    { table: 'chat_messages', type: 'BASE TABLE', rows: 7000 },
    { table: 'audit', type: 'SYSTEM VERSIONED', rows: 10 },
    { table: 'v_leads', type: 'VIEW', rows: null },
  ];
  const indexes = [
    { table: 'leads', index: 'idx_leads_tenant', position: 1 },
    { table: 'leads', index: 'idx_leads_email_tenant', position: 2 },
    { table: 'users', index: 'idx_users_email_tenant', position: 2 },
  ];

  it('names the base tables whose tenant column starts no index, with where the column does appear', () => {
    const audit = auditTenantIndexes(tables, indexes, 'tenant_id');
    expect(audit.tables).toEqual(['audit', 'chat_messages', 'leads', 'users']);
    expect(audit.skipped).toEqual(['v_leads']);
    expect(audit.unindexed.map((u) => [u.table, u.tenantColumnElsewhere])).toEqual([
      ['audit', []],
      ['chat_messages', []],
      ['users', ['idx_users_email_tenant@2']],
    ]);
    expect(audit.unindexed[1]!.suggestion).toBe(
      'CREATE INDEX `idx_chat_messages_tenant_id` ON `chat_messages` (`tenant_id`);',
    );
  });

  it('keeps suggested index names within 64 characters', () => {
    const long = 'a'.repeat(64);
    expect(suggestIndex(long, 'tenant_id')).toBe(
      `CREATE INDEX \`idx_${'a'.repeat(60)}\` ON \`${long}\` (\`tenant_id\`);`,
    );
  });

  it('verify lists every table and statement; slow summarises', () => {
    const audit = auditTenantIndexes(tables, indexes, 'tenant_id');
    const verify = tenantIndexFinding(VERIFY_TENANT_INDEXES, 'app', audit, true);
    expect(verify.status).toBe('fail');
    expect(verify.summary.en).toBe(
      '3 of 4 tables with tenant_id have no index starting with tenant_id: audit, chat_messages, users',
    );
    expect(verify.evidence.tables).toEqual(['audit', 'chat_messages', 'users']);
    expect((verify.evidence.offending as { suggestion: string }[]).map((o) => o.suggestion)).toHaveLength(3);
    expect(verify.mitigation?.es).toContain('Aplicar índices faltantes y reiniciar workers de cola');
    const many = auditTenantIndexes(
      Array.from({ length: 30 }, (_, i) => ({ table: `t${String(i).padStart(2, '0')}`, type: 'BASE TABLE' })),
      [],
      'tenant_id',
    );
    const slow = tenantIndexFinding(
      { ...VERIFY_TENANT_INDEXES, id: 'slow.tenant_indexes' },
      'app',
      many,
      false,
    );
    expect(slow.summary.en).toMatch(
      /30 of 30 tables .*: t00, t01, t02, t03, t04, t05, t06, t07 and 22 more$/,
    );
    expect(slow.evidence.tables).toHaveLength(30);
    expect(slow.evidence.suggestions).toHaveLength(20);
  });

  it('passes when every table is indexed; skips when no table has the column', () => {
    const ok = auditTenantIndexes([tables[0]!], indexes, 'tenant_id');
    expect(tenantIndexFinding(VERIFY_TENANT_INDEXES, 'app', ok, true).status).toBe('pass');
    const none = auditTenantIndexes([], [], 'org_id');
    const d = tenantIndexFinding(VERIFY_TENANT_INDEXES, 'app', none, true);
    expect(d.status).toBe('skip');
    expect(d.summary.en).toContain('playbooks.tenant_column');
  });
});

describe('tenant queries', () => {
  it('binds every :tenant as a string parameter, and only whole placeholders', () => {
    expect(
      bindTenant(
        'SELECT * FROM t WHERE tenant_id = :tenant AND x IN (SELECT y FROM u WHERE tenant_id = :tenant)',
        '42',
      ),
    ).toEqual({
      sql: 'SELECT * FROM t WHERE tenant_id = ? AND x IN (SELECT y FROM u WHERE tenant_id = ?)',
      params: ['42', '42'],
    });
    expect(bindTenant('SELECT :tenant_name', '1')).toEqual({ sql: 'SELECT :tenant_name', params: [] });
  });

  it('generates the per-table query verify explains when none is configured', () => {
    expect(generatedQuery('leads', 'tenant_id')).toEqual({
      name: 'leads (tenant_id = :tenant)',
      sql: 'SELECT * FROM `leads` WHERE `tenant_id` = :tenant LIMIT 50',
    });
  });

  const access = (over: Partial<ExplainAccess>): ExplainAccess => ({
    table: 'leads',
    accessType: 'ref',
    rows: 5000,
    key: 'idx_leads_tenant',
    possibleKeys: ['idx_leads_tenant'],
    internal: false,
    ...over,
  });
  const plan = (name: string, accesses: ExplainAccess[]): QueryPlan => ({
    name,
    sql: `SELECT … /* ${name} */`,
    accesses,
    messages: [],
    verdict: judgePlan(accesses, 1000),
  });
  const meta = { id: 'verify.tenant_performance', group: GROUPS.queries, title: { en: 't', es: 't' } };

  it('fails naming the query and the scanned table; passes indexed queries', () => {
    const d = tenantPlanFinding(
      meta,
      [
        plan('leads list', [access({})]),
        plan('chat list', [
          access({ table: 'chat_messages', accessType: 'ALL', rows: 7000, key: null, possibleKeys: [] }),
        ]),
      ],
      '1',
      1000,
    );
    expect(d.status).toBe('fail');
    expect(d.summary.en).toBe(
      'full scans over 1000 rows for tenant 1 in chat list: chat_messages (ALL, ~7000 rows, no usable index)',
    );
    expect(d.summary.es).toBe(
      'recorridos completos de más de 1000 filas para el tenant 1 en chat list: chat_messages (ALL, ~7000 filas, sin índice utilizable)',
    );
    expect(d.mitigation?.es).toContain('Aplicar índices faltantes y reiniciar workers de cola');
    expect((d.evidence.queries as { status: string }[]).map((q) => q.status)).toEqual(['pass', 'fail']);
    expect(tenantPlanFinding(meta, [plan('leads list', [access({})])], '1', 1000).status).toBe('pass');
  });

  it('fails when EXPLAIN itself fails (unknown table, syntax)', () => {
    const broken: QueryPlan = {
      name: 'old',
      sql: 'SELECT * FROM gone',
      accesses: [],
      messages: [],
      verdict: null,
      error: "Table 'app.gone' doesn't exist",
    };
    const d = tenantPlanFinding(meta, [broken], '1', 1000);
    expect(d.status).toBe('fail');
    expect(d.summary.en).toContain("EXPLAIN failed for old (Table 'app.gone' doesn't exist)");
  });
});

/**
 * `verify tenant-indexes` and `verify tenant-performance` against a real MariaDB schema built here: 40 tables
 * (tenant column indexed first, only second in a composite index, not indexed at all, absent, named in another
 * case, a prefix index, the tenant column as the first column of the primary key) plus a view; and two seeded
 * tables, one indexed by tenant and one not, for EXPLAIN with a real tenant id. Also: the MySQL probe's
 * skip/fail paths (no DSN, unreachable server, wrong password) never show a password.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_TARGETS,
  type CheckContext,
  type PlaybookReport,
  type PlaybookTargets,
} from '../../src/playbooks/check.js';
import { runPlaybook } from '../../src/playbooks/runner.js';
import { slowChecks } from '../../src/playbooks/slow/index.js';
import { tenantIndexesChecks, tenantPerformanceChecks } from '../../src/playbooks/verify/index.js';

const SERVER = 'mysql://root@127.0.0.1:3306';
const DB = `guardia_verify_${randomBytes(4).toString('hex')}`;
const DSN = `${SERVER}/${DB}`;

/** Tables whose tenant_id does not start any index: what the finding must name, exactly. */
const EXPECTED_UNINDEXED: string[] = [];

/** The 40-table schema (DDL), and (once) the tables it leaves without a tenant-first index. */
function schema(): string[] {
  const ddl: string[] = [];
  const record = EXPECTED_UNINDEXED.length === 0;
  const unindexed = (name: string) => {
    if (record) EXPECTED_UNINDEXED.push(name);
  };
  const table = (name: string, body: string) =>
    ddl.push(`CREATE TABLE \`${name}\` (${body}) ENGINE = InnoDB`);
  // 12 with tenant_id first in some index (single, composite, unique, primary key, prefix)
  for (let i = 1; i <= 4; i++)
    table(
      `ok_single_${i}`,
      'id INT AUTO_INCREMENT PRIMARY KEY, tenant_id INT NOT NULL, name VARCHAR(50), KEY idx_t (tenant_id)',
    );
  for (let i = 1; i <= 4; i++)
    table(
      `ok_composite_${i}`,
      'id INT AUTO_INCREMENT PRIMARY KEY, tenant_id INT NOT NULL, created_at DATETIME, KEY idx_t_created (tenant_id, created_at), KEY idx_created (created_at)',
    );
  table(
    'ok_unique',
    'id INT AUTO_INCREMENT PRIMARY KEY, tenant_id INT NOT NULL, email VARCHAR(100), UNIQUE KEY uq_t_email (tenant_id, email)',
  );
  table('ok_primary', 'tenant_id INT NOT NULL, id INT NOT NULL, body TEXT, PRIMARY KEY (tenant_id, id)');
  table(
    'ok_prefix',
    'id INT AUTO_INCREMENT PRIMARY KEY, tenant_id VARCHAR(64) NOT NULL, KEY idx_t (tenant_id(8))',
  );
  table('ok_mixed_case', 'id INT AUTO_INCREMENT PRIMARY KEY, Tenant_Id INT NOT NULL, KEY idx_t (Tenant_Id)');
  // 10 with tenant_id only second (or third) in a composite index
  for (let i = 1; i <= 5; i++) {
    table(
      `second_created_${i}`,
      'id INT AUTO_INCREMENT PRIMARY KEY, tenant_id INT NOT NULL, created_at DATETIME, KEY idx_created_t (created_at, tenant_id)',
    );
    unindexed(`second_created_${i}`);
  }
  for (let i = 1; i <= 5; i++) {
    table(
      `second_email_${i}`,
      'id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100), status INT, tenant_id INT NOT NULL, UNIQUE KEY uq_email_t (email, status, tenant_id)',
    );
    unindexed(`second_email_${i}`);
  }
  // 8 with tenant_id and no index on it at all (one with other indexes)
  for (let i = 1; i <= 7; i++) {
    table(`bare_${i}`, 'id INT AUTO_INCREMENT PRIMARY KEY, tenant_id INT NOT NULL, payload VARCHAR(200)');
    unindexed(`bare_${i}`);
  }
  table(
    'bare_with_other_keys',
    'id INT AUTO_INCREMENT PRIMARY KEY, tenant_id INT NOT NULL, lead_id INT, KEY idx_lead (lead_id)',
  );
  unindexed('bare_with_other_keys');
  // 10 without a tenant column (one with a look-alike column, unindexed)
  for (let i = 1; i <= 9; i++)
    table(`global_${i}`, 'id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(20), KEY idx_code (code)');
  table('lookalike', 'id INT AUTO_INCREMENT PRIMARY KEY, tenant_id_old INT, tenant INT');
  // a view exposing tenant_id: not a table, never reported
  ddl.push('CREATE VIEW v_tenant_rows AS SELECT id, tenant_id, payload FROM bare_1');
  return ddl;
}

const DIGITS =
  '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
/** 0..2999 from cross-joined digits (plain SQL both MariaDB and MySQL run). */
const SEQ = `(SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d AS n
  FROM ${DIGITS} a CROSS JOIN ${DIGITS} b CROSS JOIN ${DIGITS} c CROSS JOIN ${DIGITS} e) s WHERE s.n < 3000`;

async function exec(sql: string[], database?: string): Promise<void> {
  const conn = await mysql.createConnection(database ? `${SERVER}/${database}` : SERVER);
  try {
    for (const s of sql) await conn.query(s);
  } finally {
    await conn.end();
  }
}

function ctx(over: Partial<PlaybookTargets> = {}, tenantId?: string): CheckContext {
  return {
    targets: { ...DEFAULT_TARGETS, mysqlDsn: DSN, ...over },
    options: tenantId ? { tenantId } : {},
    now: () => new Date(),
    secrets: [],
  };
}

const TIMEOUT = { timeoutMs: 20_000 };

beforeAll(async () => {
  await exec([`CREATE DATABASE \`${DB}\``]);
  const ddl = schema();
  await exec(ddl, DB);
  // Two seeded tables (3,000 rows each; tenant 7 holds 300): one indexed by tenant, one not.
  await exec(
    [
      'CREATE TABLE orders_big (id INT AUTO_INCREMENT PRIMARY KEY, tenant_id INT NOT NULL, total INT, created_at DATETIME, KEY idx_orders_tenant (tenant_id, created_at))',
      'CREATE TABLE events_big (id INT AUTO_INCREMENT PRIMARY KEY, tenant_id INT NOT NULL, kind VARCHAR(20), created_at DATETIME)',
      ...['orders_big', 'events_big'].map(
        (t) =>
          `INSERT INTO ${t} (tenant_id, ${t === 'orders_big' ? 'total' : 'kind'}, created_at)
           SELECT 1 + s.n % 10, ${t === 'orders_big' ? 's.n' : "'click'"}, NOW() - INTERVAL s.n MINUTE FROM ${SEQ}`,
      ),
      'ANALYZE TABLE orders_big, events_big',
    ],
    DB,
  );
  EXPECTED_UNINDEXED.push('events_big');
  EXPECTED_UNINDEXED.sort();
}, 120_000);

afterAll(async () => {
  await exec([`DROP DATABASE IF EXISTS \`${DB}\``]);
});

function only(report: PlaybookReport, id: string) {
  expect(report.findings.map((f) => f.id)).toEqual([id]);
  return report.findings[0]!;
}

describe('verify tenant-indexes', () => {
  it('the schema under test has 42 tables and a view', async () => {
    const conn = await mysql.createConnection(DSN);
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT TABLE_TYPE AS t, COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? GROUP BY TABLE_TYPE ORDER BY t',
      [DB],
    );
    await conn.end();
    expect(rows.map((r) => [r.t, Number(r.n)])).toEqual([
      ['BASE TABLE', 42],
      ['VIEW', 1],
    ]);
  });

  it('names exactly the tables whose tenant column starts no index, with one CREATE INDEX each', async () => {
    const f = only(
      await runPlaybook('tenant-indexes', ctx(), { ...TIMEOUT, checks: tenantIndexesChecks }),
      'verify.tenant_indexes',
    );
    expect(f.status).toBe('fail');
    expect(f.evidence.tables).toEqual(EXPECTED_UNINDEXED);
    expect(f.evidence.tables_with_tenant_column).toBe(12 + 10 + 8 + 2);
    expect(f.evidence.views_skipped).toEqual(['v_tenant_rows']);
    const offending = f.evidence.offending as {
      table: string;
      suggestion: string;
      tenant_column_in: string[];
    }[];
    expect(offending.map((o) => o.suggestion)).toEqual(
      EXPECTED_UNINDEXED.map((t) => `CREATE INDEX \`idx_${t}_tenant_id\` ON \`${t}\` (\`tenant_id\`);`),
    );
    expect(offending.find((o) => o.table === 'second_email_1')!.tenant_column_in).toEqual(['uq_email_t@3']);
    expect(offending.find((o) => o.table === 'second_created_1')!.tenant_column_in).toEqual([
      'idx_created_t@2',
    ]);
    for (const t of EXPECTED_UNINDEXED) expect(f.summary.en).toContain(t);
    expect(f.summary.en).toMatch(/^19 of 32 tables with tenant_id have no index starting with tenant_id: /);
    expect(f.mitigation?.es).toContain('Aplicar índices faltantes y reiniciar workers de cola');
  });

  it('passes once the suggested indexes exist (same statements, applied)', async () => {
    const first = only(
      await runPlaybook('tenant-indexes', ctx(), { ...TIMEOUT, checks: tenantIndexesChecks }),
      'verify.tenant_indexes',
    );
    const copy = `${DB}_fixed`;
    await exec([`DROP DATABASE IF EXISTS \`${copy}\``, `CREATE DATABASE \`${copy}\``]);
    try {
      await exec(schema(), copy);
      const statements = (first.evidence.offending as { table: string; suggestion: string }[])
        .filter((o) => o.table !== 'events_big')
        .map((o) => o.suggestion);
      await exec(statements, copy);
      const report = await runPlaybook('tenant-indexes', ctx({ mysqlDsn: `${SERVER}/${copy}` }), {
        ...TIMEOUT,
        checks: tenantIndexesChecks,
      });
      const f = only(report, 'verify.tenant_indexes');
      expect(f.status).toBe('pass');
      expect(f.summary.en).toBe('all 30 tables with tenant_id have an index whose first column is tenant_id');
    } finally {
      await exec([`DROP DATABASE IF EXISTS \`${copy}\``]);
    }
  });

  it('the slow playbook reports the same tables, summarised', async () => {
    const check = slowChecks.find((c) => c.id === 'slow.tenant_indexes')!;
    const f = only(await runPlaybook('slow', ctx(), { ...TIMEOUT, checks: [check] }), 'slow.tenant_indexes');
    expect(f.status).toBe('fail');
    expect(f.evidence.tables).toEqual(EXPECTED_UNINDEXED);
    expect(f.summary.en).toMatch(/and 11 more$/);
  });

  it('honours another tenant column name', async () => {
    const f = only(
      await runPlaybook('tenant-indexes', ctx({ tenantColumn: 'tenant' }), {
        ...TIMEOUT,
        checks: tenantIndexesChecks,
      }),
      'verify.tenant_indexes',
    );
    expect(f.evidence.tables).toEqual(['lookalike']);
  });
});

describe('verify tenant-performance', () => {
  const QUERIES = [
    {
      name: 'orders list',
      sql: 'SELECT id, total FROM orders_big WHERE tenant_id = :tenant ORDER BY created_at DESC LIMIT 50',
    },
    {
      name: 'events list',
      sql: 'SELECT id, kind FROM events_big WHERE tenant_id = :tenant ORDER BY created_at DESC LIMIT 50',
    },
  ];

  it('skips without --tenant, saying so', async () => {
    const f = only(
      await runPlaybook('tenant-performance', ctx(), { ...TIMEOUT, checks: tenantPerformanceChecks }),
      'verify.tenant_performance',
    );
    expect(f.status).toBe('skip');
    expect(f.summary.en).toContain('--tenant');
  });

  it('flags the full scan for a real tenant id and not the indexed query', async () => {
    const report = await runPlaybook('tenant-performance', ctx({ tenantQueries: QUERIES }, '7'), {
      ...TIMEOUT,
      checks: tenantPerformanceChecks,
    });
    const f = only(report, 'verify.tenant_performance');
    expect(f.status).toBe('fail');
    const queries = f.evidence.queries as {
      name: string;
      status: string;
      plan: { table: string; access_type: string; rows: number }[];
    }[];
    expect(queries.map((q) => [q.name, q.status])).toEqual([
      ['orders list', 'pass'],
      ['events list', 'fail'],
    ]);
    expect(queries[0]!.plan[0]).toMatchObject({ table: 'orders_big', key: 'idx_orders_tenant' });
    expect(queries[1]!.plan[0]).toMatchObject({ table: 'events_big', access_type: 'ALL' });
    expect(queries[1]!.plan[0]!.rows).toBeGreaterThan(1000);
    expect(f.summary.en).toMatch(
      /^full scans over 1000 rows for tenant 7 in events list: events_big \(ALL, ~\d+ rows, no usable index\)$/,
    );
    expect(f.evidence.tenant_id).toBe('7');
  });

  it('with no configured query, explains one generated query per tenant table: only the big unindexed one fails', async () => {
    const f = only(
      await runPlaybook('tenant-performance', ctx({}, '7'), { ...TIMEOUT, checks: tenantPerformanceChecks }),
      'verify.tenant_performance',
    );
    expect(f.status).toBe('fail');
    expect(f.evidence.queries_source).toBe('generated');
    const queries = f.evidence.queries as { name: string; status: string }[];
    expect(queries).toHaveLength(32);
    expect(queries.filter((q) => q.status !== 'pass').map((q) => q.name)).toEqual([
      'events_big (tenant_id = :tenant)',
    ]);
  });

  it('fails a configured query that no longer parses, naming the error', async () => {
    const f = only(
      await runPlaybook(
        'tenant-performance',
        ctx(
          { tenantQueries: [{ name: 'gone', sql: 'SELECT * FROM no_such_table WHERE tenant_id = :tenant' }] },
          '7',
        ),
        {
          ...TIMEOUT,
          checks: tenantPerformanceChecks,
        },
      ),
      'verify.tenant_performance',
    );
    expect(f.status).toBe('fail');
    expect(f.summary.en).toContain(`EXPLAIN failed for gone (Table '${DB}.no_such_table' doesn't exist)`);
  });

  it('the slow playbook explains the same configured queries', async () => {
    const check = slowChecks.find((c) => c.id === 'slow.tenant_queries')!;
    const f = only(
      await runPlaybook('slow', ctx({ tenantQueries: QUERIES }, '7'), { ...TIMEOUT, checks: [check] }),
      'slow.tenant_queries',
    );
    expect(f.status).toBe('fail');
    const none = only(
      await runPlaybook('slow', ctx({}, '7'), { ...TIMEOUT, checks: [check] }),
      'slow.tenant_queries',
    );
    expect(none.status).toBe('skip');
    expect(none.summary.en).toContain('playbooks.tenant_queries');
  });
});

describe('the MySQL probe when the server is not there', () => {
  it('skips naming the flag and the policy key when no DSN is configured', async () => {
    const f = only(
      await runPlaybook(
        'tenant-indexes',
        { ...ctx(), targets: { ...DEFAULT_TARGETS } },
        { ...TIMEOUT, checks: tenantIndexesChecks },
      ),
      'verify.tenant_indexes',
    );
    expect(f.status).toBe('skip');
    expect(f.summary.en).toContain('--mysql-dsn');
    expect(f.summary.en).toContain('playbooks.targets.mysql_dsn');
  });

  it('fails naming the target, never its password: refused port and wrong password', async () => {
    const password = 'Wr0ng-Pa55word-for-probe';
    for (const dsn of [
      `mysql://app:${password}@127.0.0.1:1/${DB}`,
      `mysql://root:${password}@127.0.0.1:3306/${DB}`,
    ]) {
      const report = await runPlaybook(
        'tenant-indexes',
        { ...ctx({ mysqlDsn: dsn }), secrets: [] }, // no secret list: the check itself must not copy the password
        { ...TIMEOUT, checks: tenantIndexesChecks },
      );
      const f = only(report, 'verify.tenant_indexes');
      expect(f.status).toBe('fail');
      const text = JSON.stringify(report);
      expect(text).not.toContain(password);
      expect(f.summary.en).toMatch(
        /^MySQL at mysql:\/\/(app|root)@127\.0\.0\.1:(1|3306)\/guardia_verify_\w+ is unreachable: /,
      );
      expect(f.mitigation?.es).toContain('Escalar verticalmente');
    }
  });
});

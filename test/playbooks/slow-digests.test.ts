/**
 * `slow.statement_digests` on private MariaDB servers (mariadb-install-db + mariadbd in a temp dir, ports of their
 * own, stopped at the end), so performance_schema and the slow query log can be switched without touching the
 * shared server: performance_schema ON → digests ranked (the diagnosis's own statements left out); OFF → skip
 * saying so, and the slow query log as the fallback: OFF, to a FILE (named), to the mysql.slow_log TABLE
 * (summarised, literals removed).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TARGETS, type CheckContext, type Finding } from '../../src/playbooks/check.js';
import { runPlaybook } from '../../src/playbooks/runner.js';
import { slowChecks } from '../../src/playbooks/slow/index.js';

interface Private {
  dsn: string;
  server: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startMariadb(flags: string[]): Promise<Private> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'guardia-mariadb-'));
  const datadir = path.join(dir, 'data');
  const install = spawnSync(
    '/usr/bin/mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`mariadb-install-db failed:\n${install.stderr}`);
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/sbin/mariadbd',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${path.join(dir, 'sock')}`,
      `--pid-file=${path.join(dir, 'pid')}`,
      '--user=root',
      '--innodb-buffer-pool-size=16M',
      '--skip-log-bin',
      ...flags,
    ],
    { stdio: 'ignore' },
  );
  const server = `mysql://root@127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const conn = await mysql.createConnection(server);
      await conn.query('CREATE DATABASE app');
      await conn.query('USE app');
      await conn.query('CREATE TABLE t (id INT PRIMARY KEY, tenant_id INT NOT NULL, note VARCHAR(40))');
      await conn.query("INSERT INTO t SELECT seq, seq % 5, CONCAT('secret-note-', seq) FROM seq_1_to_3000");
      await conn.end();
      return { dsn: `${server}/app`, server, stop };
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function sql(dsn: string, statements: string[]): Promise<void> {
  const conn = await mysql.createConnection(dsn);
  try {
    for (const s of statements) await conn.query(s);
  } finally {
    await conn.end();
  }
}

async function digests(dsn: string): Promise<Finding> {
  const ctx: CheckContext = {
    targets: { ...DEFAULT_TARGETS, mysqlDsn: dsn },
    options: {},
    now: () => new Date(),
    secrets: [],
  };
  const check = slowChecks.find((c) => c.id === 'slow.statement_digests')!;
  // the slow playbook's other MySQL checks run alongside, as in a real diagnosis: their statements must not count
  const others = slowChecks.filter((c) => ['slow.mysql.connections', 'slow.tenant_indexes'].includes(c.id));
  const report = await runPlaybook('slow', ctx, { timeoutMs: 20_000, checks: [check, ...others] });
  return report.findings.find((f) => f.id === 'slow.statement_digests')!;
}

describe('performance_schema ON', () => {
  let db: Private;
  beforeAll(async () => {
    db = await startMariadb(['--performance-schema=ON']);
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('ranks the app schema’s digests and warns on an unindexed statement examining over 1,000 rows', async () => {
    await sql(
      db.dsn,
      Array.from({ length: 5 }, (_, i) => `SELECT COUNT(*) FROM t WHERE tenant_id = ${i}`),
    );
    const f = await digests(db.dsn);
    expect(f.status).toBe('warn');
    expect(f.evidence).toMatchObject({ performance_schema: 'ON' });
    const top = f.evidence.top as { digest: string; calls: number; rows_examined_per_call: number }[];
    expect(
      top.find((d) => d.digest.startsWith('SELECT COUNT ( * ) FROM `t` WHERE `tenant_id` = ?')),
    ).toMatchObject({
      calls: 5,
      rows_examined_per_call: 3000,
    });
    for (const d of top) expect(d.digest).not.toMatch(/information_schema|VERSION|SHOW|@@/);
    expect(f.summary.en).toContain('slow or unindexed statements among the top digests');
    expect(f.mitigation?.es).toContain('Aplicar índices faltantes y reiniciar workers de cola');
  });

  it('passes once the statement uses an index', async () => {
    await sql(db.dsn, [
      'CREATE INDEX idx_t_tenant ON t (tenant_id)',
      'TRUNCATE performance_schema.events_statements_summary_by_digest',
      ...Array.from({ length: 5 }, (_, i) => `SELECT id FROM t WHERE tenant_id = ${i} LIMIT 10`),
    ]);
    const f = await digests(db.dsn);
    expect(f.status).toBe('pass');
  });
});

describe('performance_schema OFF (MariaDB’s default)', () => {
  let db: Private;
  beforeAll(async () => {
    db = await startMariadb(['--performance-schema=OFF']);
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('skips saying so; the slow query log is off too', async () => {
    const f = await digests(db.dsn);
    expect(f.status).toBe('skip');
    expect(f.summary.en).toMatch(
      /^performance_schema is OFF on mysql:\/\/root@127\.0\.0\.1:\d+\/app \(MariaDB ships it off/,
    );
    expect(f.summary.en).toContain('the slow query log is OFF too');
  });

  it('with the slow log going to a file, skips naming the file', async () => {
    await sql(db.server, ["SET GLOBAL log_output = 'FILE'", 'SET GLOBAL slow_query_log = ON']);
    const f = await digests(db.dsn);
    expect(f.status).toBe('skip');
    expect(f.summary.en).toMatch(
      /the slow query log \(long_query_time 10 s\) is written to the file \/.+-slow\.log on the database host/,
    );
  });

  it('with the slow log in mysql.slow_log, summarises the last hour without literals and warns', async () => {
    await sql(db.server, ["SET GLOBAL log_output = 'TABLE'", 'SET GLOBAL long_query_time = 0']);
    await sql(db.dsn, [
      'SET SESSION long_query_time = 0',
      ...[1, 2, 3].map((i) => `SELECT note FROM t WHERE tenant_id = ${i} AND note <> 'secret-note-${i}'`),
    ]);
    const f = await digests(db.dsn);
    expect(f.status).toBe('warn');
    expect(f.evidence.source).toBe('mysql.slow_log (last hour)');
    const top = f.evidence.top as { statement: string; count: number }[];
    expect(
      top.find((g) => g.statement === 'SELECT note FROM t WHERE tenant_id = ? AND note <> ?'),
    ).toMatchObject({ count: 3 });
    for (const g of top) expect(g.statement).not.toMatch(/information_schema|VERSION\(|SHOW|@@/i);
    expect(JSON.stringify(f)).not.toContain('secret-note-');
    expect(f.summary.en).toMatch(
      /^\d+ statements slower than 0 s in the last hour \(slow query log; performance_schema is OFF\)/,
    );
  });
});

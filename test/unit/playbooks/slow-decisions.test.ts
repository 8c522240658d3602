/**
 * The slow playbook's decisions as pure functions: what each check concludes from what its probe saw. The probes
 * themselves run against real MariaDB and Redis in test/playbooks/slow*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TARGETS } from '../../../src/playbooks/check.js';
import { displayMysqlDsn, parseMysqlDsn, quoteIdent } from '../../../src/playbooks/probes/mysql.js';
import { displayRedisUrl, parseInfo, parseRedisUrl } from '../../../src/playbooks/probes/redis.js';
import { RUNBOOK } from '../../../src/playbooks/slow/common.js';
import { judgeConnections } from '../../../src/playbooks/slow/connections.js';
import { judgeDigests, type DigestRow } from '../../../src/playbooks/slow/digests.js';
import { judgeMigrations, migrationMatches } from '../../../src/playbooks/slow/migrations.js';
import {
  clientNames,
  judgeQueue,
  workerNameMatcher,
  type QueueSnapshot,
} from '../../../src/playbooks/slow/queues.js';
import {
  judgeRedisErrors,
  parseLatencyLatest,
  parseSlowlog,
  type RedisErrorStats,
} from '../../../src/playbooks/slow/redis-errors.js';
import { judgeEviction } from '../../../src/playbooks/slow/redis-eviction.js';
import { judgeLatency, percentile } from '../../../src/playbooks/slow/redis-latency.js';
import {
  isDiagnosticStatement,
  normalizeStatement,
  summarizeSlowLog,
} from '../../../src/playbooks/slow/statements.js';

const T = DEFAULT_TARGETS.thresholds;

describe('DSNs and URLs are shown without their passwords', () => {
  it('parses a MySQL DSN and displays it without the password', () => {
    const t = parseMysqlDsn('mysql://app:s3cr%40t-pass@db.internal:3307/crm?ssl=true');
    expect(t).toMatchObject({
      host: 'db.internal',
      port: 3307,
      user: 'app',
      password: 's3cr@t-pass',
      database: 'crm',
      ssl: true,
    });
    expect(t.display).toBe('mysql://app@db.internal:3307/crm');
    expect(displayMysqlDsn('mysql://root@127.0.0.1/x')).toBe('mysql://root@127.0.0.1/x');
    expect(displayMysqlDsn('not a url with s3cret')).toBe('<unparseable DSN>');
  });

  it('rejects other schemes without echoing the DSN', () => {
    expect(() => parseMysqlDsn('postgres://u:topsecret@h/db')).toThrow(/must start with mysql:\/\//);
    try {
      parseMysqlDsn('postgres://u:topsecret@h/db');
    } catch (err) {
      expect((err as Error).message).not.toContain('topsecret');
    }
  });

  it('parses Redis URLs (password only, user and password, TLS, db)', () => {
    expect(parseRedisUrl('redis://:hunter22@cache:6380/2')).toMatchObject({
      host: 'cache',
      port: 6380,
      password: 'hunter22',
      db: 2,
      tls: false,
    });
    expect(parseRedisUrl('rediss://worker:pw12345@cache/0')).toMatchObject({
      username: 'worker',
      password: 'pw12345',
      tls: true,
    });
    expect(displayRedisUrl('redis://:hunter22@cache:6380/2')).toBe('redis://cache:6380/2');
    expect(displayRedisUrl('rediss://worker:pw12345@cache/0')).toBe('rediss://worker@cache/0');
  });

  it('quotes plain identifiers and refuses anything else', () => {
    expect(quoteIdent('schema_migrations')).toBe('`schema_migrations`');
    expect(() => quoteIdent('x`; DROP TABLE y')).toThrow(/not a plain SQL identifier/);
  });

  it('parses INFO into fields', () => {
    expect(
      parseInfo(
        '# Memory\r\nused_memory:100\r\nmaxmemory_policy:allkeys-lru\r\n\r\n# Stats\r\nevicted_keys:3\r\n',
      ),
    ).toEqual({
      used_memory: '100',
      maxmemory_policy: 'allkeys-lru',
      evicted_keys: '3',
    });
  });
});

describe('slow.mysql.connections', () => {
  const at = (connected: number) =>
    judgeConnections({ threadsConnected: connected, threadsRunning: 4, maxConnections: 100 }, T);
  it('passes under 80 %, warns from 80 %, fails from 90 %', () => {
    expect(at(79).status).toBe('pass');
    expect(at(80).status).toBe('warn');
    expect(at(89).status).toBe('warn');
    expect(at(90).status).toBe('fail');
    expect(at(100).status).toBe('fail');
  });
  it('reports Threads_running and the ratio, and quotes the runbook on failure', () => {
    const d = at(95);
    expect(d.evidence).toMatchObject({
      threads_connected: 95,
      threads_running: 4,
      max_connections: 100,
      connections_ratio: 0.95,
    });
    expect(d.summary.en).toContain('Threads_running 4');
    expect(d.mitigation?.es).toContain('Escalar verticalmente DB/app si hay saturación sostenida');
    expect(d.mitigation?.es).toContain('Reducir carga temporal (batch sizes, concurrencia de campañas)');
    expect(at(10).mitigation).toBeUndefined();
  });
});

describe('slow.redis.latency', () => {
  it('takes the nearest-rank percentile', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(samples, 0.99)).toBe(99);
    expect(percentile(samples, 0.5)).toBe(50);
    expect(percentile([], 0.99)).toBe(0);
  });
  it('passes under 5 ms p99, warns from 5 ms, fails from 100 ms', () => {
    const base = Array.from({ length: 100 }, () => 0.3);
    expect(judgeLatency(base, T).status).toBe('pass');
    // one outlier is the max, not the p99 of 100 samples
    expect(judgeLatency([...base.slice(1), 250], T).status).toBe('pass');
    expect(judgeLatency([...base.slice(2), 6, 6], T).status).toBe('warn');
    const slow = judgeLatency([...base.slice(2), 150, 150], T);
    expect(slow.status).toBe('fail');
    expect(slow.evidence).toMatchObject({ pings: 100, p99_ms: 150, max_ms: 150 });
    expect(slow.mitigation?.es).toContain('Escalar verticalmente');
  });
});

describe('slow.redis.errors', () => {
  const now = 1_800_000_000;
  const quiet: RedisErrorStats = {
    rejectedConnections: 0,
    connectedClients: 5,
    maxClients: 10_000,
    totalErrorReplies: 0,
    errorStats: {},
    latency: [],
    slowlog: [],
    slowlogLen: 0,
  };
  it('passes a quiet server', () => {
    expect(judgeRedisErrors(quiet, T, now).status).toBe('pass');
  });
  it('warns on rejected connections since start, past spikes and slow commands', () => {
    expect(judgeRedisErrors({ ...quiet, rejectedConnections: 3 }, T, now).summary.en).toContain(
      '3 connections rejected',
    );
    const past = { ...quiet, latency: [{ event: 'command', at: now - 3600, latestMs: 250, maxMs: 400 }] };
    expect(judgeRedisErrors(past, T, now).status).toBe('warn');
    const slow = { ...quiet, slowlog: [{ id: 1, at: now - 10, durationUs: 150_000, command: 'KEYS *' }] };
    expect(judgeRedisErrors(slow, T, now)).toMatchObject({ status: 'warn' });
    // slow log entries under the fail threshold are evidence, not a warning
    const fine = {
      ...quiet,
      slowlog: [{ id: 1, at: now - 10, durationUs: 20_000, command: 'EVALSHA abc …' }],
    };
    expect(judgeRedisErrors(fine, T, now).status).toBe('pass');
  });
  it('fails on a recent spike or a server at maxclients', () => {
    const recent = { ...quiet, latency: [{ event: 'command', at: now - 60, latestMs: 120, maxMs: 120 }] };
    expect(judgeRedisErrors(recent, T, now).status).toBe('fail');
    expect(judgeRedisErrors({ ...quiet, connectedClients: 10_000 }, T, now).summary.en).toContain(
      'maxclients',
    );
  });
  it('parses LATENCY LATEST and SLOWLOG GET, keeping only the command and its key', () => {
    expect(parseLatencyLatest([['command', 1_700_000_000, 120, 300]])).toEqual([
      { event: 'command', at: 1_700_000_000, latestMs: 120, maxMs: 300 },
    ]);
    const [entry] = parseSlowlog([
      [
        7,
        1_700_000_000,
        150_000,
        ['hset', 'bull:campaigns:1', 'data', '{"email":"x@y"}'],
        '10.0.0.5:5000',
        'app',
      ],
    ]);
    expect(entry).toEqual({
      id: 7,
      at: 1_700_000_000,
      durationUs: 150_000,
      command: 'HSET bull:campaigns:1 …',
      client: 'app',
    });
  });
});

describe('slow.redis.eviction', () => {
  const mem = { maxmemory: 1 << 30, usedMemory: 1 << 20, evictedKeys: 0 };
  it('passes noeviction', () => {
    expect(judgeEviction('noeviction', ['campaigns'], mem).status).toBe('pass');
  });
  it('fails any other policy when queues are used, naming it', () => {
    const d = judgeEviction('allkeys-lru', ['campaigns'], { ...mem, evictedKeys: 12 });
    expect(d.status).toBe('fail');
    expect(d.summary.en).toContain('allkeys-lru');
    expect(d.summary.en).toContain('12 keys already evicted');
    expect(d.mitigation?.en).toContain('CONFIG SET maxmemory-policy noeviction');
  });
  it('skips without queues, and when the policy cannot be read', () => {
    expect(judgeEviction('allkeys-lru', [], mem).status).toBe('skip');
    expect(judgeEviction('unknown', ['campaigns'], mem).status).toBe('skip');
  });
});

describe('slow.statement_digests', () => {
  const row = (over: Partial<DigestRow>): DigestRow => ({
    schema: 'app',
    digestText: 'SELECT * FROM `leads` WHERE `tenant_id` = ?',
    calls: 100,
    totalMs: 1000,
    avgMs: 10,
    maxMs: 50,
    rowsExamined: 100 * 50,
    rowsSent: 100 * 50,
    noIndexUsed: 0,
    ...over,
  });
  it('passes fast indexed digests; warns slow or unindexed ones; fails ≥ 3 s averages', () => {
    expect(judgeDigests([row({})], 1000).status).toBe('pass');
    expect(judgeDigests([row({ avgMs: 1500 })], 1000).status).toBe('warn');
    expect(judgeDigests([row({ noIndexUsed: 100, rowsExamined: 100 * 7000 })], 1000).status).toBe('warn');
    const d = judgeDigests([row({ avgMs: 4200 })], 1000);
    expect(d.status).toBe('fail');
    expect(d.mitigation?.es).toContain('Aplicar índices faltantes y reiniciar workers de cola');
  });
  it('leaves the diagnosis’s own statements out of the slow log summary', () => {
    for (const own of [
      'SELECT VERSION() AS v',
      'SELECT @@GLOBAL.max_connections AS max_connections',
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected')",
      'EXPLAIN FORMAT=JSON SELECT * FROM leads',
      'SELECT c.TABLE_NAME FROM information_schema.COLUMNS c',
      'SELECT query_time FROM mysql.slow_log',
    ])
      expect(isDiagnosticStatement(own), own).toBe(true);
    expect(isDiagnosticStatement('SELECT * FROM leads WHERE tenant_id = 1')).toBe(false);
    expect(
      summarizeSlowLog([
        { sql: 'SELECT VERSION() AS v', queryTimeS: 9, rowsExamined: 0 },
        { sql: 'SELECT * FROM leads', queryTimeS: 1, rowsExamined: 10 },
      ]).map((g) => g.statement),
    ).toEqual(['SELECT * FROM leads']);
  });

  it('normalises logged statements so the slow log summary carries no literal', () => {
    expect(
      normalizeStatement(
        "SELECT * FROM leads WHERE tenant_id = 1 AND email = 'ana@x.example' AND id IN (1, 2, 3)",
      ),
    ).toBe('SELECT * FROM leads WHERE tenant_id = ? AND email = ? AND id IN (…)');
    const top = summarizeSlowLog([
      { sql: 'SELECT * FROM leads WHERE tenant_id = 1', queryTimeS: 2, rowsExamined: 7000 },
      { sql: 'SELECT * FROM leads WHERE tenant_id = 2', queryTimeS: 3, rowsExamined: 7000 },
      { sql: 'SELECT 1', queryTimeS: 1, rowsExamined: 0 },
    ]);
    expect(top[0]).toEqual({
      statement: 'SELECT * FROM leads WHERE tenant_id = ?',
      count: 2,
      total_s: 5,
      max_s: 3,
      rows_examined: 14000,
    });
  });
});

describe('slow.index_migrations', () => {
  it('matches versions written several ways', () => {
    expect(migrationMatches('0040', '0040')).toBe(true);
    expect(migrationMatches('0040_tenant_indexes', '0040')).toBe(true);
    expect(migrationMatches('40', '0040')).toBe(true);
    expect(migrationMatches('0041', '0040')).toBe(false);
    expect(migrationMatches('00400', '0040')).toBe(false);
  });
  it('fails naming each missing migration, quoting the runbook', () => {
    const d = judgeMigrations(['0001', '0040'], ['0040', '0041'], 'schema_migrations.version');
    expect(d.status).toBe('fail');
    expect(d.summary.en).toBe('index migration 0041 not applied (not in schema_migrations.version)');
    expect(d.evidence).toMatchObject({ missing: ['0041'], applied_required: ['0040'] });
    expect(d.mitigation?.es).toContain(RUNBOOK.indexes.es);
    expect(judgeMigrations(['0040', '0041'], ['0040', '0041'], 'm.v').status).toBe('pass');
  });
});

describe('slow.queues', () => {
  const snap = (over: Partial<QueueSnapshot>): QueueSnapshot => ({
    queue: 'campaigns',
    exists: true,
    wait: 0,
    paused: 0,
    prioritized: 0,
    active: 0,
    delayed: 0,
    failed: 0,
    waitingChildren: 0,
    isPaused: false,
    workers: 1,
    oldestWaitingMs: null,
    ...over,
  });
  it('passes an idle queue with a worker, or one that is moving', () => {
    expect(judgeQueue(snap({}), T).status).toBe('pass');
    expect(judgeQueue(snap({ wait: 30, active: 5, oldestWaitingMs: 500 }), T).status).toBe('pass');
  });
  it('fails a stalled queue: jobs waiting and no worker', () => {
    const v = judgeQueue(snap({ wait: 7, workers: 0, oldestWaitingMs: 2_000 }), T);
    expect(v.status).toBe('fail');
    expect(v.reasons[0]!.en).toBe(
      'campaigns is stalled: 7 waiting, 0 active and no worker connected, oldest waiting 2 s',
    );
  });
  it('fails jobs waiting over a minute with none active even when worker connections exist (or are unknown)', () => {
    expect(judgeQueue(snap({ wait: 3, oldestWaitingMs: 120_000 }), T).status).toBe('fail');
    expect(judgeQueue(snap({ wait: 3, workers: null, oldestWaitingMs: 120_000 }), T).status).toBe('fail');
    expect(judgeQueue(snap({ wait: 3, workers: null, oldestWaitingMs: 1_000 }), T).status).toBe('pass');
  });
  it('warns: no worker, a paused queue, a backlog over the threshold, failed jobs, unknown keys', () => {
    expect(judgeQueue(snap({ workers: 0 }), T).status).toBe('warn');
    expect(judgeQueue(snap({ wait: 4, isPaused: true }), T).status).toBe('warn');
    expect(judgeQueue(snap({ wait: 1500, active: 5, oldestWaitingMs: 100 }), T).status).toBe('warn');
    expect(judgeQueue(snap({ failed: 2 }), T).reasons[0]!.en).toBe('campaigns has 2 failed jobs');
    expect(judgeQueue(snap({ exists: false, workers: 0 }), T).status).toBe('warn');
  });
  it('recognises BullMQ worker connection names the way Queue.getWorkers() does', () => {
    const list = [
      'id=1 addr=127.0.0.1:1 name=bull:Y2FtcGFpZ25z age=1 cmd=bzpopmin',
      'id=2 addr=127.0.0.1:2 name=bull:Y2FtcGFpZ25z:w:worker-1 age=1 cmd=bzpopmin',
      'id=3 addr=127.0.0.1:3 name=bull:Y2FtcGFpZ25z:qe age=1 cmd=xread',
      'id=4 addr=127.0.0.1:4 name= age=1 cmd=client',
      'id=5 addr=127.0.0.1:5 name=other:Y2FtcGFpZ25z age=1 cmd=ping',
    ].join('\n');
    const names = clientNames(list);
    expect(names).toEqual([
      'bull:Y2FtcGFpZ25z',
      'bull:Y2FtcGFpZ25z:w:worker-1',
      'bull:Y2FtcGFpZ25z:qe',
      'other:Y2FtcGFpZ25z',
    ]);
    expect(names.filter(workerNameMatcher('bull', 'campaigns'))).toHaveLength(2);
  });
});

/**
 * `diagnose slow` against the real reference app (MariaDB, BullMQ on its own redis-server): all switches off, and
 * each slow-related fault switch on by itself; for each, the SET of checks that do not pass must be exactly the
 * runbook's. Every run asserts which checks skip and why — here only `slow.statement_digests`, because MariaDB
 * ships performance_schema OFF and the slow query log is off on this server.
 *
 * Each app gets a private redis-server (noeviction unless the test says otherwise), so the Redis checks see only
 * this app and not the other suites sharing 127.0.0.1:6379. Timings never decide a test: the PING latency
 * thresholds are lifted (the decision is unit-tested with fixed samples in test/unit/playbooks).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_TARGETS,
  type CheckContext,
  type Finding,
  type PlaybookReport,
  type PlaybookTargets,
} from '../../src/playbooks/check.js';
import { runPlaybook } from '../../src/playbooks/runner.js';
import { slowChecks } from '../../src/playbooks/slow/index.js';
import { startReferenceApp, type ReferenceApp, type ReferenceAppOptions } from '../helpers/reference-app.js';

const SLOW_IDS = [
  'slow.index_migrations',
  'slow.mysql.connections',
  'slow.queues',
  'slow.redis.errors',
  'slow.redis.eviction',
  'slow.redis.latency',
  'slow.statement_digests',
  'slow.tenant_indexes',
  'slow.tenant_queries',
];

/** The app's per-tenant list queries on the tables 0040 indexes (leads.list, campaigns' own listing). */
const TENANT_QUERIES = [
  {
    name: 'leads.list',
    sql: 'SELECT id, name, email, status, created_at FROM leads WHERE tenant_id = :tenant ORDER BY created_at DESC LIMIT 50',
  },
  {
    name: 'campaigns.recent',
    sql: 'SELECT id, name, status FROM campaigns WHERE tenant_id = :tenant ORDER BY created_at DESC LIMIT 20',
  },
];
/** The chat listing, on the tables 0041 indexes. */
const CHAT_QUERY = {
  name: 'chat.list',
  sql: 'SELECT id, thread_id, sender, body, created_at FROM chat_messages WHERE tenant_id = :tenant ORDER BY created_at DESC LIMIT 50',
};

/** Why statement digests skip on this machine's MariaDB (asserted, so a change of server shows up here). */
const DIGESTS_SKIP =
  /^performance_schema is OFF on mysql:\/\/root@127\.0\.0\.1:3306\/refapp_\w+ \(MariaDB ships it off/;

function contextFor(app: ReferenceApp, over: Partial<PlaybookTargets> = {}): CheckContext {
  return {
    targets: {
      ...DEFAULT_TARGETS,
      mysqlDsn: app.mysqlDsn,
      redisUrl: app.redisUrl,
      queues: ['campaigns'],
      queuePrefix: app.queuePrefix,
      tenantQueries: TENANT_QUERIES,
      thresholds: { ...DEFAULT_TARGETS.thresholds, redisPingWarnMs: 10_000, redisPingFailMs: 60_000 },
      ...over,
    },
    options: { tenantId: app.login.tenantId },
    now: () => new Date(),
    secrets: [], // the checks must not copy a secret in the first place
  };
}

async function diagnose(app: ReferenceApp, over: Partial<PlaybookTargets> = {}): Promise<PlaybookReport> {
  const report = await runPlaybook('slow', contextFor(app, over), { timeoutMs: 30_000, checks: slowChecks });
  expect(report.findings.map((f) => f.id).sort()).toEqual(SLOW_IDS);
  const text = JSON.stringify(report);
  for (const s of app.secrets) expect(text).not.toContain(s);
  for (const f of report.findings)
    if (f.status === 'warn' || f.status === 'fail') expect(f.mitigation?.es, f.id).toMatch(/Runbook: "/);
  return report;
}

const find = (r: PlaybookReport, id: string): Finding => r.findings.find((f) => f.id === id)!;
const nonPassing = (r: PlaybookReport) =>
  Object.fromEntries(r.findings.filter((f) => f.status !== 'pass').map((f) => [f.id, f.status]));

/** Waits until the app's campaign worker shows in CLIENT LIST (it connects just after the app says listening). */
async function waitForWorker(app: ReferenceApp): Promise<void> {
  const redis = new Redis(app.redisUrl);
  const name = `${app.queuePrefix}:${Buffer.from('campaigns').toString('base64')}`;
  try {
    const deadline = Date.now() + 15_000;
    while (!String(await redis.call('CLIENT', 'LIST')).includes(`name=${name}`)) {
      if (Date.now() > deadline) throw new Error('the campaign worker never connected');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await redis.quit();
  }
}

function withApp(options: ReferenceAppOptions, body: (app: () => ReferenceApp) => void) {
  let app: ReferenceApp;
  beforeAll(async () => {
    app = await startReferenceApp({ proxy: false, privateRedis: {}, ...options });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });
  body(() => app);
}

describe('all switches off', () => {
  withApp({}, (app) => {
    it('every slow check passes, except statement digests, which skip because performance_schema is OFF', async () => {
      await waitForWorker(app());
      const report = await diagnose(app());
      expect(nonPassing(report)).toEqual({ 'slow.statement_digests': 'skip' });
      expect(find(report, 'slow.statement_digests').summary.en).toMatch(DIGESTS_SKIP);
      expect(find(report, 'slow.statement_digests').summary.en).toContain('the slow query log is OFF too');
      expect(report.status).toBe('pass');
      expect(find(report, 'slow.tenant_indexes').evidence).toMatchObject({ tables_with_tenant_column: 6 });
      expect(find(report, 'slow.index_migrations').evidence).toMatchObject({
        missing: [],
        applied_required: ['0040', '0041'],
      });
      expect(find(report, 'slow.tenant_queries').evidence).toMatchObject({ tenant_id: '1' });
      expect(find(report, 'slow.queues').evidence.queues).toEqual([
        expect.objectContaining({ queue: 'campaigns', waiting: 0, workers: 1 }),
      ]);
    });

    it('with no tenant given, the tenant query check skips saying which flag to pass', async () => {
      const report = await runPlaybook(
        'slow',
        { ...contextFor(app()), options: {} },
        { timeoutMs: 30_000, checks: slowChecks },
      );
      expect(nonPassing(report)).toEqual({ 'slow.statement_digests': 'skip', 'slow.tenant_queries': 'skip' });
      expect(find(report, 'slow.tenant_queries').summary.en).toContain('--tenant');
    });
  });
});

describe('FAULT_SKIP_MIGRATIONS=0041', () => {
  withApp({ env: { FAULT_SKIP_MIGRATIONS: '0041' } }, (app) => {
    it('exactly slow.index_migrations and slow.tenant_indexes fail, naming 0041 and the chat tables', async () => {
      await waitForWorker(app());
      const report = await diagnose(app());
      expect(nonPassing(report)).toEqual({
        'slow.index_migrations': 'fail',
        'slow.tenant_indexes': 'fail',
        'slow.statement_digests': 'skip',
      });
      expect(find(report, 'slow.index_migrations').summary.en).toBe(
        'index migration 0041 not applied (not in schema_migrations.version)',
      );
      expect(find(report, 'slow.tenant_indexes').evidence.tables).toEqual(['chat_messages', 'chat_threads']);
    });

    it('a configured chat query makes its EXPLAIN fail too (a full scan for tenant 1)', async () => {
      const report = await diagnose(app(), { tenantQueries: [...TENANT_QUERIES, CHAT_QUERY] });
      expect(nonPassing(report)).toEqual({
        'slow.index_migrations': 'fail',
        'slow.tenant_indexes': 'fail',
        'slow.tenant_queries': 'fail',
        'slow.statement_digests': 'skip',
      });
      expect(find(report, 'slow.tenant_queries').summary.en).toMatch(
        /^full scans over 1000 rows for tenant 1 in chat\.list: chat_messages \(ALL, ~\d+ rows, no usable index\)$/,
      );
    });
  });
});

describe('FAULT_DROP_INDEX=leads.idx_leads_tenant', () => {
  withApp({ env: { FAULT_DROP_INDEX: 'leads.idx_leads_tenant' } }, (app) => {
    it('slow.tenant_indexes fails naming leads, and the leads query EXPLAIN fails with a full scan', async () => {
      await waitForWorker(app());
      const report = await diagnose(app());
      expect(nonPassing(report)).toEqual({
        'slow.tenant_indexes': 'fail',
        'slow.tenant_queries': 'fail',
        'slow.statement_digests': 'skip',
      });
      expect(find(report, 'slow.tenant_indexes').evidence.tables).toEqual(['leads']);
      expect(find(report, 'slow.tenant_indexes').mitigation?.en).toContain(
        'CREATE INDEX `idx_leads_tenant_id` ON `leads` (`tenant_id`);',
      );
      expect(find(report, 'slow.tenant_queries').summary.en).toMatch(
        /^full scans over 1000 rows for tenant 1 in leads\.list: leads \(ALL, ~\d+ rows, no usable index\)$/,
      );
    });
  });
});

describe('Redis maxmemory-policy allkeys-lru', () => {
  withApp({ privateRedis: { maxmemoryPolicy: 'allkeys-lru' } }, (app) => {
    it('exactly slow.redis.eviction fails, naming the policy', async () => {
      await waitForWorker(app());
      const report = await diagnose(app());
      expect(nonPassing(report)).toEqual({ 'slow.redis.eviction': 'fail', 'slow.statement_digests': 'skip' });
      expect(find(report, 'slow.redis.eviction').summary.en).toMatch(
        /^maxmemory-policy is allkeys-lru, not noeviction/,
      );
    });
  });
});

describe('FAULT_STALLED_QUEUE=1 with jobs enqueued', () => {
  withApp({ env: { FAULT_STALLED_QUEUE: '1' } }, (app) => {
    it('exactly slow.queues fails: jobs waiting, none active, no worker', async () => {
      const leads = await fetch(
        `${app().appUrl}/api/trpc/leads.list?input=${encodeURIComponent(JSON.stringify({ tenantId: 1 }))}`,
      ).then((r) => r.json() as Promise<{ result: { data: { items: { id: number }[] } } }>);
      const leadIds = leads.result.data.items.slice(0, 12).map((l) => l.id);
      const sent = await fetch(`${app().appUrl}/api/trpc/campaigns.send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId: 1, leadIds }),
      });
      expect(sent.status).toBe(200);
      const report = await diagnose(app());
      expect(nonPassing(report)).toEqual({ 'slow.queues': 'fail', 'slow.statement_digests': 'skip' });
      expect(find(report, 'slow.queues').summary.en).toMatch(
        /^campaigns is stalled: 12 waiting, 0 active and no worker connected, oldest waiting \d+ s$/,
      );
      expect(find(report, 'slow.queues').mitigation?.es).toContain('reiniciar workers de cola');
    });
  });
});

/**
 * The slow playbook's Redis checks against real servers: a private redis-server (password, allkeys-lru, DEBUG and
 * the latency monitor enabled so a slow command can be provoked) and real BullMQ queues and workers, read back
 * through BullMQ's raw keys. Timings never decide a test here: the latency thresholds are lifted where a verdict
 * is asserted, and the PING decision itself is unit-tested with fixed samples.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_TARGETS,
  type CheckContext,
  type Finding,
  type PlaybookTargets,
} from '../../src/playbooks/check.js';
import { runPlaybook } from '../../src/playbooks/runner.js';
import { slowChecks } from '../../src/playbooks/slow/index.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
let server: ChildProcess;
let port: number;
let url: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as net.AddressInfo;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  port = await freePort();
  server = spawn(
    '/usr/bin/redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      PASSWORD,
      '--maxmemory-policy',
      'allkeys-lru',
      '--enable-debug-command',
      'local',
      '--latency-monitor-threshold',
      '50',
      '--slowlog-log-slower-than',
      '10000',
    ],
    { stdio: 'ignore' },
  );
  url = `redis://:${PASSWORD}@127.0.0.1:${port}/0`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      await probe.quit();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error('private redis-server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

afterAll(() => {
  server?.kill('SIGTERM');
});

/** Thresholds a loaded test machine cannot trip by timing alone. */
const NO_TIMING = { ...DEFAULT_TARGETS.thresholds, redisPingWarnMs: 10_000, redisPingFailMs: 60_000 };

function ctx(over: Partial<PlaybookTargets> = {}): CheckContext {
  return {
    targets: { ...DEFAULT_TARGETS, redisUrl: url, thresholds: NO_TIMING, ...over },
    options: {},
    now: () => new Date(),
    secrets: [], // the checks must not copy the password in the first place
  };
}

async function run(ids: string[], c: CheckContext): Promise<Finding[]> {
  const checks = slowChecks.filter((k) => ids.includes(k.id));
  expect(checks.map((k) => k.id).sort()).toEqual([...ids].sort());
  const report = await runPlaybook('slow', c, { timeoutMs: 20_000, checks });
  expect(JSON.stringify(report)).not.toContain(PASSWORD);
  return report.findings;
}

const REDIS_IDS = ['slow.redis.latency', 'slow.redis.errors', 'slow.redis.eviction', 'slow.queues'];

describe('Redis probes', () => {
  it('authenticates with the URL’s password; PINGs are timed from a dedicated thread', async () => {
    const [f] = await run(['slow.redis.latency'], ctx());
    expect(f!.status).toBe('pass');
    expect(f!.evidence).toMatchObject({ target: `redis://127.0.0.1:${port}/0`, pings: 100 });
    expect(f!.evidence.p99_ms).toEqual(expect.any(Number));
  });

  it('skips every Redis check without a URL, naming the flag and the policy key', async () => {
    const findings = await run(REDIS_IDS, {
      ...ctx(),
      targets: { ...DEFAULT_TARGETS, queues: ['campaigns'] },
    });
    expect(findings.map((f) => f.status)).toEqual(['skip', 'skip', 'skip', 'skip']);
    for (const f of findings) expect(f.summary.en).toMatch(/--redis-url .*playbooks\.targets\.redis_url/);
  });

  it('fails every Redis check on a wrong password or a closed port, naming the target without the password', async () => {
    const closed = await freePort();
    for (const [bad, shown] of [
      [`redis://:wrong-${PASSWORD}@127.0.0.1:${port}/0`, `redis://127.0.0.1:${port}/0`],
      [`redis://:${PASSWORD}@127.0.0.1:${closed}/0`, `redis://127.0.0.1:${closed}/0`],
    ] as const) {
      const started = Date.now();
      const findings = await run(REDIS_IDS, ctx({ redisUrl: bad, queues: ['campaigns'] }));
      expect(Date.now() - started).toBeLessThan(15_000); // one attempt each, no reconnection storm
      for (const f of findings) {
        expect(f.status).toBe('fail');
        expect(f.summary.en).toContain(`Redis at ${shown} is unreachable: `);
        expect(f.mitigation?.es).toContain('Escalar verticalmente DB/app si hay saturación sostenida');
      }
    }
  });
});

describe('slow.redis.eviction', () => {
  it('fails allkeys-lru when queues are used, naming the policy; skips it without queues', async () => {
    const [f] = await run(['slow.redis.eviction'], ctx({ queues: ['campaigns'] }));
    expect(f!.status).toBe('fail');
    expect(f!.summary.en).toMatch(/^maxmemory-policy is allkeys-lru, not noeviction/);
    expect(f!.evidence.maxmemory_policy).toBe('allkeys-lru');
    const [none] = await run(['slow.redis.eviction'], ctx());
    expect(none!.status).toBe('skip');
  });
});

describe('slow.redis.errors', () => {
  it('passes a quiet server, then fails on a fresh latency spike and lists the slow command (key only)', async () => {
    const admin = new Redis(url);
    try {
      await admin.call('LATENCY', 'RESET');
      await admin.call('SLOWLOG', 'RESET');
      const [quiet] = await run(['slow.redis.errors'], ctx({ thresholds: DEFAULT_TARGETS.thresholds }));
      expect(quiet!.status).toBe('pass');
      await admin.call('DEBUG', 'SLEEP', '0.15');
      const [f] = await run(['slow.redis.errors'], ctx({ thresholds: DEFAULT_TARGETS.thresholds }));
      expect(f!.status).toBe('fail');
      expect(f!.summary.en).toMatch(
        /latency spikes of 100 ms or more in the last 10 min \(LATENCY LATEST: command \d+ ms\)/,
      );
      const top = f!.evidence.slowlog_top as { command: string; duration_ms: number }[];
      expect(top[0]!.command).toBe('DEBUG SLEEP …'); // the command and its first argument, never the rest
      expect(top[0]!.duration_ms).toBeGreaterThanOrEqual(100);
    } finally {
      await admin.call('LATENCY', 'RESET');
      await admin.call('SLOWLOG', 'RESET');
      await admin.quit();
    }
  });
});

describe('slow.queues against real BullMQ', () => {
  const connection = () => ({ host: '127.0.0.1', port, password: PASSWORD });

  it('reads backlog and workers from BullMQ’s keys: stalled without a worker, passing with one, failed jobs warn', async () => {
    const prefix = `gtest${randomBytes(3).toString('hex')}`;
    const queue = new Queue('campaigns', { connection: connection(), prefix });
    try {
      await queue.waitUntilReady();
      const c = ctx({ queues: ['campaigns'], queuePrefix: prefix });

      // created, empty, no worker: nothing stuck yet, but nothing would consume
      let [f] = await run(['slow.queues'], c);
      expect(f!.status).toBe('warn');
      expect(f!.summary.en).toBe('no worker is connected to campaigns: new jobs will pile up');

      await queue.addBulk(Array.from({ length: 7 }, (_, i) => ({ name: 'send', data: { i } })));
      [f] = await run(['slow.queues'], c);
      expect(f!.status).toBe('fail');
      expect(f!.summary.en).toMatch(
        /^campaigns is stalled: 7 waiting, 0 active and no worker connected, oldest waiting \d+ s$/,
      );
      expect(f!.evidence.queues).toEqual([
        expect.objectContaining({ queue: 'campaigns', waiting: 7, active: 0, workers: 0 }),
      ]);
      expect(f!.mitigation?.es).toContain('Aplicar índices faltantes y reiniciar workers de cola');

      // a worker drains the queue; the jobs with i = 3 fail (no retries)
      const worker = new Worker(
        'campaigns',
        async (job) => {
          if (job.data.i === 3) throw new Error('boom');
        },
        { connection: connection(), prefix, name: 'w1' },
      );
      try {
        const deadline = Date.now() + 15_000;
        const pending = async () => {
          const counts = await queue.getJobCounts('wait', 'active');
          return (counts.wait ?? 0) + (counts.active ?? 0);
        };
        while ((await pending()) > 0) {
          if (Date.now() > deadline) throw new Error('worker did not drain the queue');
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(await queue.getWorkersCount()).toBe(1);
        [f] = await run(['slow.queues'], c);
        expect(f!.status).toBe('warn');
        expect(f!.summary.en).toBe('campaigns has 1 failed jobs');
        expect(f!.evidence.queues).toEqual([expect.objectContaining({ waiting: 0, failed: 1, workers: 1 })]);

        await queue.clean(0, 100, 'failed');
        [f] = await run(['slow.queues'], c);
        expect(f!.status).toBe('pass');
        expect(f!.summary.en).toBe('campaigns: 0 waiting, 0 active, 1 workers');
      } finally {
        await worker.close();
      }
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('warns when the queue’s keys do not exist (wrong name or prefix)', async () => {
    const [f] = await run(['slow.queues'], ctx({ queues: ['nope'], queuePrefix: 'nobody' }));
    expect(f!.status).toBe('warn');
    expect(f!.summary.en).toContain('no BullMQ keys for nope');
  });
});

/**
 * Escalation-engine benchmark (issue 4) against a real `guardia serve` on SQLite:
 *
 *   npm run build && npx tsx bench/engine.ts      (--skip-build: use the dist/ already there)
 *
 * An HTTP sink in a worker thread of this process stands in for Slack (answers 200 "ok"); the server gets
 * SLACK_WEBHOOK_URL=<sink>/services/T/B/X, so every page to a person (their first contact is Slack) arrives there.
 *   1. idle      after a warm-up (2,000 alerts, so the paths are JIT-compiled, as in a server that has been running),
 *                N (200) PagerDuty `trigger` events with severity critical (→ sev1 → primary paged at once), one at
 *                a time; latency = send → the sink receives the Slack request whose text holds the alert's unique key.
 *   2. load      a fixed-rate scheduler sends R (1,000) alerts/s for D (10) s over keep-alive connections; the same
 *                latency for every alert, measured from the actual send and from the scheduled send (no coordinated
 *                omission); achieved rate and non-202 answers.
 *   3. timers    a fresh server with a policy whose sev2 escalation is `after: 5s / 10s / 15s` (primary), K (334)
 *                sev2 incidents triggered quickly (~1,000 escalation timers + SLA checks), then the SQLite file is
 *                read: lateness = fired_at − due_at of every done escalation_step timer; also at the sink
 *                (Slack request received − due_at).
 * Server-side breakdowns (started_at → timer fired_at → notification delivered_at) come from the SQLite file.
 * The server runs with GUARDIA_LOG_LEVEL=warn and GUARDIA_RATE_LIMIT_HOOKS=0 (one client address sends everything).
 * What was measured is recorded (commit, changed src files, a hash of dist/): the working tree is shared.
 * Results: JSON and a Markdown table, printed and written to bench/results/engine-<timestamp>.{json,md}.
 *
 * Options: --skip-build --warmup 2000 --idle 200 --rate 1000 --duration 10 --connections 64 --incidents 334
 *          --quiet-wait 30 (wait up to N s for other processes to use < 0.25 core before each phase; 0: don't)
 *          --profile (server of phases 1–2 under --cpu-prof; top self-time functions are reported) --keep
 *          --query-stats (statements the server prepares/runs in the idle and the load phase, per alert, CPU time)
 *          --stmt-cache (experiment, not src/: a prepared-statement cache for a build without one; the env's
 *            `code.sqliteStatementCache` says whether dist/store/db.js already has its own)
 *
 * The load generator, the sink and the server share the machine's cores (2 on the reference machine), and other
 * engineers' tests run there too: the load average and the CPU other processes used are reported per phase.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DEFAULT_POLICY_YAML } from '../src/domain/policy/default-policy.js';

// ---------------------------------------------------------------------------------------------------------------
// Options

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const num = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number >= 0`);
  return value;
};

const OPTS = {
  build: !flag('skip-build'),
  idle: num('idle', 200),
  /** Alerts sent (concurrently, 8 at a time) before the idle phase, so its code paths are JIT-compiled. */
  warmup: num('warmup', 2_000),
  rate: num('rate', 1_000),
  duration: num('duration', 10),
  connections: num('connections', 64),
  incidents: num('incidents', 334),
  quietWait: num('quiet-wait', 30),
  profile: flag('profile'),
  /** Diagnostics: count and time every SQLite statement of the latency server (a preload; not src/). */
  queryStats: flag('query-stats'),
  /** Experiment: the servers get a prepared-statement cache through the same preload (not src/). */
  stmtCache: flag('stmt-cache'),
  keep: flag('keep'),
};

const TARGETS = { idleMedianMs: 10, loadP99Ms: 100, timerP99Ms: 1_000 };
const PEERS = {
  alertmanagerIdleMedianMs: 2.7,
  alertmanagerLoadP99Ms: '38–103',
  goalertCycleS: 5,
};
const ROUTING_KEY = 'R0UT1NGKEYB3NCHR0UT1NGKEYB3NCH00'; // 32 characters, as PagerDuty's
const RUN = Date.now().toString(36);
const KEY_RE = /bench-[a-z0-9]+-[a-z]+-\d+/;
const STEP_AFTER_S = [5, 10, 15];
const HARD_TIMEOUT_MS = 12 * 60_000;
const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Monotonic milliseconds, the same clock in every thread (CLOCK_MONOTONIC). */
const mono = () => Number(process.hrtime.bigint()) / 1e6;
const round = (n: number, digits = 1) =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n;
const log = (line: string) => process.stderr.write(`${line}\n`);

function stats(values: number[]): {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
} {
  const s = [...values].sort((a, b) => a - b);
  const pct = (p: number) =>
    s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
  return {
    n: s.length,
    p50: round(pct(50), 2),
    p90: round(pct(90), 2),
    p99: round(pct(99), 2),
    max: round(s.length ? s[s.length - 1]! : NaN, 2),
    min: round(s.length ? s[0]! : NaN, 2),
    mean: round(s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN, 2),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Machine readings

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function procCpuSeconds(pid: number): number {
  return procCpu(pid).user + procCpu(pid).system;
}

/** User and system CPU seconds of a process (all its threads). */
function procCpu(pid: number): { user: number; system: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
  } catch {
    return { user: 0, system: 0 };
  }
}

function systemBusySeconds(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = f;
  return (user + nice + system + irq + softirq) / CLK_TCK;
}

/** CPU use during a span: this process (all threads), the server, and everything else on the machine. */
function cpuMeter(serverPid: number) {
  const wall0 = mono();
  const sys0 = systemBusySeconds();
  const me0 = process.cpuUsage();
  const srv0 = procCpuSeconds(serverPid);
  const sys0srv = procCpu(serverPid).system;
  return () => {
    const wallS = (mono() - wall0) / 1000;
    const me = process.cpuUsage(me0);
    const mine = (me.user + me.system) / 1e6;
    const server = procCpuSeconds(serverPid) - srv0;
    const others = Math.max(0, systemBusySeconds() - sys0 - mine - server);
    return {
      wallS: round(wallS, 2),
      serverCpuS: round(server, 2),
      serverSystemShare: round((procCpu(serverPid).system - sys0srv) / Math.max(1e-9, server), 2),
      serverCores: round(server / wallS, 2),
      benchCores: round(mine / wallS, 2),
      othersCores: round(others / wallS, 2),
      loadavg: os.loadavg().map((l) => round(l, 2)),
    };
  };
}

async function waitForQuietMachine(): Promise<{ waitedS: number; othersCores: number }> {
  const t0 = Date.now();
  let others = NaN;
  while (OPTS.quietWait > 0) {
    const s0 = systemBusySeconds();
    const me0 = process.cpuUsage();
    await sleep(1000);
    const me = process.cpuUsage(me0);
    others = Math.max(0, systemBusySeconds() - s0 - (me.user + me.system) / 1e6);
    if (others < 0.25 || Date.now() - t0 > OPTS.quietWait * 1000) break;
    if (Date.now() - t0 < 1500)
      log(`  waiting for a quiet machine (others use ${others.toFixed(2)} cores) …`);
  }
  return { waitedS: Math.round((Date.now() - t0) / 1000), othersCores: round(others, 2) };
}

// ---------------------------------------------------------------------------------------------------------------
// The Slack sink: a worker thread with its own event loop, so the load generator does not delay its timestamps.

interface SinkHit {
  key: string | null;
  /** Monotonic ms when the request's headers arrived. */
  mono: number;
  /** Wall-clock ms (epoch, sub-ms) at the same moment, to compare with the server's ISO timestamps. */
  wall: number;
  path: string;
}

const SINK_CODE = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const re = ${KEY_RE.toString()};
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
const server = http.createServer((req, res) => {
  const mono = Number(process.hrtime.bigint()) / 1e6;
  const wall = performance.timeOrigin + performance.now();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const m = re.exec(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    parentPort.postMessage({ type: 'hit', key: m ? m[0] : null, mono, wall, path: req.url });
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'port', port: server.address().port }));
parentPort.on('message', (msg) => {
  if (msg === 'delay-reset') delay.reset();
  if (msg === 'delay') parentPort.postMessage({ type: 'delay', p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 });
  if (msg === 'close') server.close(() => process.exit(0));
});
`;

class Sink {
  readonly hits = new Map<string, SinkHit[]>();
  unmatched = 0;
  total = 0;
  private waiters = new Map<string, () => void>();
  private delayWaiter: ((d: { p99: number; max: number }) => void) | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly port: number,
  ) {
    worker.on('message', (msg: { type: string } & Partial<SinkHit> & { p99?: number; max?: number }) => {
      if (msg.type === 'hit') {
        this.total++;
        if (!msg.key) {
          this.unmatched++;
          return;
        }
        const list = this.hits.get(msg.key) ?? [];
        list.push({ key: msg.key, mono: msg.mono!, wall: msg.wall!, path: msg.path! });
        this.hits.set(msg.key, list);
        const waiter = this.waiters.get(msg.key);
        if (waiter) {
          this.waiters.delete(msg.key);
          waiter();
        }
      } else if (msg.type === 'delay') this.delayWaiter?.({ p99: msg.p99!, max: msg.max! });
    });
  }

  static async start(): Promise<Sink> {
    const worker = new Worker(SINK_CODE, { eval: true });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (msg: { type: string; port?: number }) => {
        if (msg.type === 'port') resolve(msg.port!);
      });
    });
    return new Sink(worker, port);
  }

  /** Resolves when the sink has received a request for the key (true) or after the timeout (false). */
  waitFor(key: string, timeoutMs: number): Promise<boolean> {
    if (this.hits.has(key)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(false);
      }, timeoutMs);
      this.waiters.set(key, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  resetDelay(): void {
    this.worker.postMessage('delay-reset');
  }

  async eventLoopDelay(): Promise<{ p99: number; max: number }> {
    const result = new Promise<{ p99: number; max: number }>((resolve) => (this.delayWaiter = resolve));
    this.worker.postMessage('delay');
    const d = await result;
    return { p99: round(d.p99, 2), max: round(d.max, 2) };
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await Promise.race([new Promise((resolve) => this.worker.once('exit', resolve)), sleep(2000)]);
    await this.worker.terminate();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Server preload (diagnostics and experiments only; src/ is unchanged)

const SERVER_PRELOAD = `
import { createRequire } from 'node:module';
import fs from 'node:fs';
const require = createRequire(${JSON.stringify(ROOT + '/')});
const Database = require('better-sqlite3');
const prepare = Database.prototype.prepare;
if (process.env.BENCH_STMT_CACHE === '1') {
  const caches = new WeakMap();
  Database.prototype.prepare = function (sql) {
    let cache = caches.get(this);
    if (!cache) caches.set(this, (cache = new Map()));
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = prepare.call(this, sql);
      if (cache.size > 500) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };
}
if (process.env.BENCH_QUERY_STATS) {
  const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
  let stats = new Map();
  const entry = (sql) => {
    let e = stats.get(sql);
    if (!e) stats.set(sql, (e = { prepares: 0, prepareUs: 0, runs: 0, runUs: 0 }));
    return e;
  };
  let patched = false;
  const inner = Database.prototype.prepare;
  Database.prototype.prepare = function (sql) {
    const t = cpu();
    const stmt = inner.call(this, sql);
    const e = entry(sql);
    e.prepares++;
    e.prepareUs += cpu() - t;
    if (!patched) {
      patched = true;
      const proto = Object.getPrototypeOf(stmt);
      for (const m of ['run', 'get', 'all', 'iterate']) {
        const orig = proto[m];
        proto[m] = function (...args) {
          const t0 = cpu();
          try { return orig.apply(this, args); } finally {
            const e2 = entry(this.source);
            e2.runs++;
            e2.runUs += cpu() - t0;
          }
        };
      }
    }
    return stmt;
  };
  // SIGUSR2 closes a snapshot (the bench sends one at each phase boundary); the last one is written at exit.
  const snapshots = [];
  const dump = () => [...stats].map(([sql, e]) => ({ sql: sql.replace(/\\s+/g, ' ').slice(0, 160), prepares: e.prepares, prepareMs: e.prepareUs / 1e3, runs: e.runs, runMs: e.runUs / 1e3 }));
  process.on('SIGUSR2', () => { snapshots.push(dump()); stats = new Map(); });
  process.on('exit', () => {
    snapshots.push(dump());
    fs.writeFileSync(process.env.BENCH_QUERY_STATS, JSON.stringify(snapshots));
  });
}
`;

function preloadArgs(dir: string, queryStats: boolean): { args: string[]; env: Record<string, string> } {
  if (!queryStats && !OPTS.stmtCache) return { args: [], env: {} };
  const file = path.join(dir, 'preload.mjs');
  fs.writeFileSync(file, SERVER_PRELOAD);
  return {
    args: ['--import', file],
    env: {
      ...(OPTS.stmtCache ? { BENCH_STMT_CACHE: '1' } : {}),
      ...(queryStats ? { BENCH_QUERY_STATS: path.join(dir, 'query-stats.json') } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The server under test

interface Server {
  child: ChildProcess;
  pid: number;
  port: number;
  dir: string;
  dbFile: string;
  profileDir: string | null;
}

const servers = new Set<ChildProcess>();
const tempDirs: string[] = [];

async function startServer(label: string, sinkPort: number, policyYaml?: string): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `guardia-bench-engine-${label}-`));
  tempDirs.push(dir);
  const dbFile = path.join(dir, 'bench.db');
  const out = fs.openSync(path.join(dir, 'server.log'), 'w');
  const env: Record<string, string> = {
    GUARDIA_HOST: '127.0.0.1',
    GUARDIA_PORT: '0',
    GUARDIA_DATABASE_URL: `sqlite:${dbFile}`,
    GUARDIA_DATA_DIR: dir,
    GUARDIA_LOG_LEVEL: 'warn',
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    SLACK_WEBHOOK_URL: `http://127.0.0.1:${sinkPort}/services/T/B/X`,
    // The load generator is one address standing in for many senders: the per-address limit on the inbound
    // endpoints (default 6,000 a minute) would answer 429 to most of the load phase.
    GUARDIA_RATE_LIMIT_HOOKS: '0',
  };
  if (policyYaml) {
    env.GUARDIA_POLICY = path.join(dir, 'policy.yaml');
    fs.writeFileSync(env.GUARDIA_POLICY, policyYaml);
  }
  const profileDir = OPTS.profile && !policyYaml ? path.join(dir, 'prof') : null;
  const preload = preloadArgs(dir, OPTS.queryStats && !policyYaml);
  const nodeArgs = [...preload.args, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/cli/main.js'), 'serve'], {
    cwd: dir, // no guardia.yaml here: the built-in policy unless GUARDIA_POLICY is set
    env: { ...process.env, ...env, ...preload.env },
    stdio: ['ignore', out, 'pipe'],
  });
  fs.closeSync(out);
  servers.add(child);
  child.on('exit', () => servers.delete(child));
  let err = '';
  child.stderr!.setEncoding('utf8');
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms:\n${err}`)),
      START_TIMEOUT_MS,
    );
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
      if (err.length > 100_000) err = err.slice(-50_000);
      const m = /Guardia is serving on http:\/\/[^\s:]+:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${err}`));
    });
  });
  return { child, pid: child.pid!, port, dir, dbFile, profileDir };
}

async function stopServer(server: Server, timeoutMs = 15_000): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    server.child.kill('SIGKILL');
    await exited;
  }
}

function killAll(): void {
  for (const child of servers) child.kill('SIGKILL');
}

// ---------------------------------------------------------------------------------------------------------------
// The client: keep-alive HTTP/1.1, one request per alert.

function makeAgent(connections: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
}

function trigger(key: string, severity: string): string {
  return JSON.stringify({
    routing_key: ROUTING_KEY,
    event_action: 'trigger',
    dedup_key: key,
    payload: { summary: `Bench alert ${key}`, source: 'bench-engine', severity },
  });
}

function post(
  agent: http.Agent,
  port: number,
  body: string,
): Promise<{ status: number; at: number; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v2/enqueue',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, at: mono() }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, at: mono(), error: err.message }));
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Server-side breakdown from the SQLite file (read-only; WAL lets us read while the server runs).

function countAlerts(dbFile: string, phases: string[]): number {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return phases.reduce(
      (n, phase) =>
        n +
        (
          db
            .prepare('select count(*) as n from alerts where dedup_key like ?')
            .get(`bench-${RUN}-${phase}-%`) as {
            n: number;
          }
        ).n,
      0,
    );
  } finally {
    db.close();
  }
}

function breakdown(dbFile: string, phase: string, firstHit: Map<string, SinkHit>) {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `select i.dedup_key as key, i.started_at as started_at, t.due_at as due_at, t.fired_at as fired_at,
                (select min(n.created_at) from notifications n where n.incident_id = i.id and n.kind = 'page') as created_at,
                (select min(n.delivered_at) from notifications n where n.incident_id = i.id and n.kind = 'page') as delivered_at,
                (select a.received_at from alerts a where a.incident_id = i.id order by a.id limit 1) as received_at
           from incidents i
           join timers t on t.incident_id = i.id and t.kind = 'escalation_step' and t.status = 'done'
                and json_extract(t.payload, '$.step.index') = 0
          where i.dedup_key like ?`,
      )
      .all(`bench-${RUN}-${phase}-%`) as {
      key: string;
      started_at: string;
      due_at: string;
      fired_at: string;
      created_at: string | null;
      delivered_at: string | null;
      received_at: string | null;
    }[];
    const ms = (iso: string | null) => (iso ? Date.parse(iso) : NaN);
    const commitToFire: number[] = [];
    const fireToDelivered: number[] = [];
    const startToSink: number[] = [];
    const sinkToDelivered: number[] = [];
    for (const r of rows) {
      commitToFire.push(ms(r.fired_at) - ms(r.started_at));
      if (r.delivered_at) fireToDelivered.push(ms(r.delivered_at) - ms(r.fired_at));
      const hit = firstHit.get(r.key);
      if (hit) {
        startToSink.push(hit.wall - ms(r.started_at));
        if (r.delivered_at) sinkToDelivered.push(ms(r.delivered_at) - hit.wall);
      }
    }
    return {
      incidents: rows.length,
      note: 'ms; server timestamps have 1 ms resolution. started_at is taken inside the ingest transaction (before commit).',
      startedToTimerFired: stats(commitToFire),
      timerFiredToDeliveredRecorded: stats(fireToDelivered),
      startedToSink: stats(startToSink),
      sinkToDeliveredRecorded: stats(sinkToDelivered),
    };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Phase 1: idle

async function idlePhase(server: Server, sink: Sink) {
  const agent = makeAgent(1);
  // Warm-up (JIT, connections to the server and from the server to the sink): not measured.
  const warmAgent = makeAgent(8);
  let w = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (w < OPTS.warmup) {
        const key = `bench-${RUN}-warm-${w++}`;
        await post(warmAgent, server.port, trigger(key, 'critical'));
        await sink.waitFor(key, 10_000);
      }
    }),
  );
  warmAgent.destroy();
  for (let i = 0; i < 5; i++) {
    const key = `bench-${RUN}-warm1-${i}`;
    await post(agent, server.port, trigger(key, 'critical'));
    await sink.waitFor(key, 5_000);
  }
  await sleep(200);
  const quiet = await waitForQuietMachine();
  if (OPTS.queryStats) server.child.kill('SIGUSR2'); // statement snapshot: start-up and warm-up
  const meter = cpuMeter(server.pid);
  const latency: number[] = [];
  const response: number[] = [];
  const statuses: Record<string, number> = {};
  let missing = 0;
  log(`  idle: ${OPTS.idle} alerts, one at a time …`);
  for (let i = 0; i < OPTS.idle; i++) {
    const key = `bench-${RUN}-idle-${i}`;
    const t0 = mono();
    const seen = sink.waitFor(key, 5_000);
    const res = await post(agent, server.port, trigger(key, 'critical'));
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    response.push(res.at - t0);
    if (await seen) latency.push(sink.hits.get(key)![0]!.mono - t0);
    else missing++;
    await sleep(10);
  }
  const cpu = meter();
  if (OPTS.queryStats) server.child.kill('SIGUSR2'); // statement snapshot: the idle phase
  agent.destroy();
  return {
    alerts: OPTS.idle,
    serverCpuMsPerAlert: round((cpu.serverCpuS * 1000) / OPTS.idle, 2),
    statuses,
    missingAtSink: missing,
    alertToSinkMs: stats(latency),
    responseMs: stats(response),
    machine: { ...cpu, quietWait: quiet },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Phase 2: fixed-rate load

async function loadPhase(server: Server, sink: Sink) {
  const total = Math.round(OPTS.rate * OPTS.duration);
  const agent = makeAgent(OPTS.connections);
  // Open the connections first, so the measured seconds do not include TCP set-up.
  await Promise.all(
    Array.from({ length: Math.min(OPTS.connections, 64) }, (_, i) =>
      post(agent, server.port, trigger(`bench-${RUN}-warmload-${i}`, 'critical')),
    ),
  );
  await sleep(1_000);
  const quiet = await waitForQuietMachine();
  const keys = Array.from({ length: total }, (_, i) => `bench-${RUN}-load-${i}`);
  const bodies = keys.map((k) => trigger(k, 'critical'));
  const scheduled = new Float64Array(total);
  const sent = new Float64Array(total);
  const answered = new Float64Array(total);
  const status = new Int32Array(total);
  const errors: Record<string, number> = {};
  let next = 0;
  let done = 0;
  let maxInFlight = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  sink.resetDelay();
  const meter = cpuMeter(server.pid);
  log(`  load: ${OPTS.rate} alerts/s for ${OPTS.duration} s (${total}), ${OPTS.connections} connections …`);
  const interval = 1000 / OPTS.rate;
  const start = mono() + 5;
  const allAnswered = new Promise<void>((resolve) => {
    const tick = () => {
      const now = mono();
      const due = Math.min(total, Math.floor((now - start) / interval) + 1);
      for (; next < due; next++) {
        const i = next;
        scheduled[i] = start + i * interval;
        sent[i] = mono();
        void post(agent, server.port, bodies[i]!).then((res) => {
          answered[i] = res.at;
          status[i] = res.status;
          if (res.error) errors[res.error] = (errors[res.error] ?? 0) + 1;
          if (++done === total) resolve();
        });
      }
      maxInFlight = Math.max(maxInFlight, next - done);
      if (next < total) setTimeout(tick, 1);
    };
    setTimeout(tick, 5);
  });
  const capMs = OPTS.duration * 1000 + 30_000;
  const sendEnd = await Promise.race([allAnswered.then(() => mono()), sleep(capMs).then(() => NaN)]);
  // Requests not answered by the cap count as unanswered; the agent is destroyed so that queued requests do not
  // keep loading the server while the pages of the accepted ones are awaited.
  const statusAtCap = Int32Array.from(status);
  const answeredAtCap = Float64Array.from(answered);
  const errorsAtCap = { ...errors };
  const unanswered = next - done;
  agent.destroy();
  const lastSent = sent[next - 1]!;
  // Then wait for the pages of all accepted alerts (bounded).
  const accepted = keys.filter((_, i) => statusAtCap[i] === 202);
  const deadline = mono() + 30_000;
  for (const key of accepted) {
    const left = deadline - mono();
    if (left <= 0) break;
    if (!sink.hits.has(key)) await sink.waitFor(key, left);
  }
  const cpu = meter();
  if (OPTS.queryStats) server.child.kill('SIGUSR2'); // statement snapshot: the load phase
  const processed = countAlerts(server.dbFile, ['load', 'warmload']);
  loopDelay.disable();
  const sinkDelay = await sink.eventLoopDelay();

  const fromSent: number[] = [];
  const fromScheduled: number[] = [];
  const response: number[] = [];
  const answerToSink: number[] = [];
  const statuses: Record<string, number> = {};
  let missing = 0;
  const perSecondSink: number[] = [];
  for (let i = 0; i < next; i++) {
    const code = answeredAtCap[i]! > 0 ? String(statusAtCap[i]) : 'unanswered';
    statuses[code] = (statuses[code] ?? 0) + 1;
    if (answeredAtCap[i]! > 0) response.push(answeredAtCap[i]! - sent[i]!);
    if (statusAtCap[i] !== 202) continue;
    const hit = sink.hits.get(keys[i]!)?.[0];
    if (!hit) {
      missing++;
      continue;
    }
    fromSent.push(hit.mono - sent[i]!);
    fromScheduled.push(hit.mono - scheduled[i]!);
    answerToSink.push(hit.mono - answeredAtCap[i]!);
    const s = Math.floor((hit.mono - start) / 1000);
    perSecondSink[s] = (perSecondSink[s] ?? 0) + 1;
  }
  const non202 = Object.entries(statuses)
    .filter(([code]) => code !== '202' && code !== 'unanswered')
    .reduce((a, [, n]) => a + n, 0);
  return {
    targetRate: OPTS.rate,
    durationS: OPTS.duration,
    connections: OPTS.connections,
    issued: next,
    achievedIssueRate: round(next / ((lastSent - start) / 1000 || 1), 0),
    achievedAnswerRate: round((next - unanswered) / (((sendEnd || start + capMs) - start) / 1000), 0),
    answerCapS: capMs / 1000,
    statuses,
    non202,
    unanswered,
    errors: errorsAtCap,
    /** Alerts stored by the server when the phase ended (the load's and its 64 warm-up alerts). */
    alertsStoredAtEnd: processed,
    maxInFlight,
    missingAtSink: missing,
    serverCpuMsPerAlert: round((cpu.serverCpuS * 1000) / Math.max(1, processed), 2),
    sinkPagesPerSecond: Array.from(perSecondSink, (n) => n ?? 0),
    alertToSinkMs: stats(fromSent),
    scheduledToSinkMs: stats(fromScheduled),
    responseMs: stats(response),
    answerToSinkMs: stats(answerToSink),
    eventLoopDelayMs: {
      loadgenP99: round(loopDelay.percentile(99) / 1e6, 2),
      loadgenMax: round(loopDelay.max / 1e6, 2),
      sinkP99: sinkDelay.p99,
      sinkMax: sinkDelay.max,
    },
    machine: { ...cpu, quietWait: quiet },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Phase 3: timer lateness

function timerPolicy(): string {
  const from = `  sev2:
    - after: 0m
      notify: [primary]
    - after: ack_target
      notify: [secondary]
      unless: acknowledged
  sev3:`;
  const to = `  sev2:
${STEP_AFTER_S.map((s) => `    - after: ${s}s\n      notify: [primary]\n`).join('')}  sev3:`;
  if (!DEFAULT_POLICY_YAML.includes(from))
    throw new Error(
      'the default policy no longer has the expected sev2 escalation block; update bench/engine.ts',
    );
  return DEFAULT_POLICY_YAML.replace(from, to);
}

async function timerPhase(sink: Sink) {
  const server = await startServer('timers', sink.port, timerPolicy());
  try {
    const quiet = await waitForQuietMachine();
    const meter = cpuMeter(server.pid);
    const agent = makeAgent(16);
    const keys = Array.from({ length: OPTS.incidents }, (_, i) => `bench-${RUN}-timer-${i}`);
    const statuses: Record<string, number> = {};
    log(
      `  timers: ${OPTS.incidents} sev2 incidents × ${STEP_AFTER_S.length} steps (${STEP_AFTER_S.join('/')} s) …`,
    );
    const t0 = mono();
    let cursor = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (cursor < keys.length) {
          const key = keys[cursor++]!;
          const res = await post(agent, server.port, trigger(key, 'error'));
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        }
      }),
    );
    const triggerSpanMs = mono() - t0;
    agent.destroy();
    // Wait until every step has reached the sink, or 10 s past the last due time.
    const expected = keys.length * STEP_AFTER_S.length;
    const deadline = mono() + STEP_AFTER_S.at(-1)! * 1000 + 10_000;
    const received = () =>
      keys.reduce((n, k) => n + Math.min(STEP_AFTER_S.length, sink.hits.get(k)?.length ?? 0), 0);
    while (mono() < deadline && received() < expected) await sleep(250);
    await sleep(1_000);
    const cpu = meter();
    await stopServer(server);

    const db = new Database(server.dbFile, { readonly: true, fileMustExist: true });
    let rows: {
      key: string;
      kind: string;
      status: string;
      due_at: string;
      fired_at: string | null;
      step: number | null;
      started_at: string;
    }[];
    try {
      rows = db
        .prepare(
          `select i.dedup_key as key, i.started_at as started_at, t.kind as kind, t.status as status,
                  t.due_at as due_at, t.fired_at as fired_at, json_extract(t.payload, '$.step.index') as step
             from timers t join incidents i on i.id = t.incident_id where i.dedup_key like ?`,
        )
        .all(`bench-${RUN}-timer-%`) as typeof rows;
    } finally {
      db.close();
    }
    const steps = rows.filter((r) => r.kind === 'escalation_step');
    const done = steps.filter((r) => r.status === 'done' && r.fired_at);
    const lateness = done.map((r) => Date.parse(r.fired_at!) - Date.parse(r.due_at));
    const byStep = STEP_AFTER_S.map((_, s) =>
      stats(done.filter((r) => r.step === s).map((r) => Date.parse(r.fired_at!) - Date.parse(r.due_at))),
    );
    // At the sink: the k-th Slack request for an incident is step k (no retries against a sink that answers 200).
    const due = new Map(steps.map((r) => [`${r.key}#${r.step}`, Date.parse(r.due_at)]));
    const sinkLateness: number[] = [];
    for (const key of keys) {
      const hits = [...(sink.hits.get(key) ?? [])].sort((a, b) => a.wall - b.wall);
      hits.slice(0, STEP_AFTER_S.length).forEach((hit, s) => {
        const d = due.get(`${key}#${s}`);
        if (d !== undefined) sinkLateness.push(hit.wall - d);
      });
    }
    const dueTimes = steps.map((r) => Date.parse(r.due_at)).sort((a, b) => a - b);
    const firstStepDue = steps.filter((r) => r.step === 0).map((r) => Date.parse(r.due_at));
    return {
      incidents: OPTS.incidents,
      statuses,
      triggerSpanMs: round(triggerSpanMs, 0),
      firstStepDueSpreadMs: firstStepDue.length ? Math.max(...firstStepDue) - Math.min(...firstStepDue) : NaN,
      timers: {
        total: rows.length,
        escalationSteps: steps.length,
        done: done.length,
        notDone: steps.length - done.length,
        slaChecks: rows.filter((r) => r.kind === 'sla_check').length,
        dueSpanMs: dueTimes.length ? dueTimes.at(-1)! - dueTimes[0]! : NaN,
      },
      latenessMs: stats(lateness),
      latenessByStepMs: byStep,
      /** How fast each step's timers fell due (they follow the trigger rate) and how fast the engine fired them. */
      ratesByStep: STEP_AFTER_S.map((_, k) => {
        const rows = done.filter((r) => r.step === k);
        const span = (values: number[]) => (Math.max(...values) - Math.min(...values)) / 1000;
        const dueSpan = span(rows.map((r) => Date.parse(r.due_at)));
        const firedSpan = span(rows.map((r) => Date.parse(r.fired_at!)));
        return {
          step: k,
          timers: rows.length,
          duePerS: round(rows.length / Math.max(dueSpan, 0.001), 0),
          firedPerS: round(rows.length / Math.max(firedSpan, 0.001), 0),
        };
      }),
      sinkLatenessMs: stats(sinkLateness),
      sinkPages: received(),
      machine: { ...cpu, quietWait: quiet },
    };
  } finally {
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Statement summary (--query-stats)

interface StatementStat {
  sql: string;
  prepares: number;
  prepareMs: number;
  runs: number;
  runMs: number;
}

/** Snapshots: [start-up + warm-up, idle, load, after the load]; per alert for the idle and load phases. */
function summarizeQueryStats(server: Server, perPhase: { idle: number; load: number }, limit = 15) {
  const file = path.join(server.dir, 'query-stats.json');
  if (!fs.existsSync(file)) return null;
  const snapshots = JSON.parse(fs.readFileSync(file, 'utf8')) as StatementStat[][];
  const phase = (rows: StatementStat[] | undefined, alerts: number) => {
    if (!rows) return null;
    const sum = (f: (r: StatementStat) => number) => rows.reduce((a, r) => a + f(r), 0);
    const per = (n: number) => round(n / Math.max(1, alerts), 2);
    return {
      alerts,
      statementsPerAlert: per(sum((r) => r.runs)),
      preparesPerAlert: per(sum((r) => r.prepares)),
      prepareMsPerAlert: round(sum((r) => r.prepareMs) / Math.max(1, alerts), 3),
      runMsPerAlert: round(sum((r) => r.runMs) / Math.max(1, alerts), 3),
      top: [...rows]
        .sort((a, b) => b.prepareMs + b.runMs - (a.prepareMs + a.runMs))
        .slice(0, limit)
        .map((r) => ({
          sql: r.sql,
          runsPerAlert: per(r.runs),
          usPerRun: round((1000 * (r.prepareMs + r.runMs)) / Math.max(1, r.runs), 0),
          prepareMs: round(r.prepareMs, 0),
          runMs: round(r.runMs, 0),
        })),
    };
  };
  return {
    note: 'CPU time of better-sqlite3 prepare() and run/get/all() per phase (the load phase: per alert stored by its end)',
    idle: phase(snapshots[1], perPhase.idle),
    load: phase(snapshots[2], perPhase.load),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CPU profile summary (--profile)

function summarizeProfile(dir: string | null, limit = 25) {
  if (!dir || !fs.existsSync(dir)) return null;
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return null;
  const kept = path.join(ROOT, 'bench/results', `engine-profile-${stamp()}.cpuprofile`);
  fs.copyFileSync(path.join(dir, file), kept);
  const prof = JSON.parse(fs.readFileSync(kept, 'utf8')) as {
    nodes: {
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
      hitCount?: number;
    }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const url = cf.url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, 'nm/');
    const name = `${cf.functionName || '(anonymous)'} ${url}:${cf.lineNumber + 1}`;
    byFn.set(name, (byFn.get(name) ?? 0) + us);
  }
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const url =
      cf.url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, 'nm/$1') ||
      cf.functionName;
    byFile.set(url, (byFile.get(url) ?? 0) + us);
  }
  const top = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, ms: round(us / 1000, 0), pct: round((100 * us) / total, 1) }));
  return {
    file: path.relative(ROOT, kept),
    totalMs: round(total / 1000, 0),
    topFunctions: top(byFn),
    topFiles: top(byFile),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

type Idle = Awaited<ReturnType<typeof idlePhase>>;
type Load = Awaited<ReturnType<typeof loadPhase>>;
type Timers = Awaited<ReturnType<typeof timerPhase>>;

function markdown(env: Record<string, unknown>, idle: Idle, load: Load, timers: Timers): string {
  const ok = (pass: boolean) => (pass ? '✅' : '❌');
  const ms = (n: number) => `${round(n, 1)} ms`;
  const rows = [
    ['Metric', 'Target', 'Measured', 'Peer', ''],
    ['---', '---', '---', '---', '---'],
    [
      `Alert → first notification, idle, median (n=${idle.alertToSinkMs.n})`,
      `< ${TARGETS.idleMedianMs} ms`,
      ms(idle.alertToSinkMs.p50),
      `Alertmanager (group_wait 0s): ${PEERS.alertmanagerIdleMedianMs} ms`,
      ok(idle.alertToSinkMs.p50 < TARGETS.idleMedianMs),
    ],
    [
      'Alert → first notification, idle, p90 / p99 / max',
      '—',
      `${ms(idle.alertToSinkMs.p90)} / ${ms(idle.alertToSinkMs.p99)} / ${ms(idle.alertToSinkMs.max)}`,
      '',
      '',
    ],
    [
      '… of which 202 answer, idle, median / p99',
      '—',
      `${ms(idle.responseMs.p50)} / ${ms(idle.responseMs.p99)}`,
      '',
      '',
    ],
    [
      `Alert → first notification, ${load.targetRate}/s load, median (n=${load.alertToSinkMs.n})`,
      '—',
      ms(load.alertToSinkMs.p50),
      '',
      '',
    ],
    [
      `Alert → first notification, ${load.targetRate}/s load, p99`,
      `< ${TARGETS.loadP99Ms} ms`,
      `${ms(load.alertToSinkMs.p99)} (max ${ms(load.alertToSinkMs.max)}; from scheduled send: p99 ${ms(load.scheduledToSinkMs.p99)})`,
      `Alertmanager: ${PEERS.alertmanagerLoadP99Ms} ms`,
      ok(load.alertToSinkMs.p99 < TARGETS.loadP99Ms),
    ],
    [
      '… of which 202 answer under load, median / p99',
      '—',
      `${ms(load.responseMs.p50)} / ${ms(load.responseMs.p99)}`,
      '',
      '',
    ],
    [
      `Rate issued / answered; non-202; unanswered after ${load.answerCapS} s; 202s without a page`,
      `${load.targetRate}/s; 0; 0; 0`,
      `${load.achievedIssueRate}/s / ${load.achievedAnswerRate}/s; ${load.non202}; ${load.unanswered} of ${load.issued}; ${load.missingAtSink}`,
      '',
      ok(
        load.non202 === 0 &&
          load.unanswered === 0 &&
          load.missingAtSink === 0 &&
          load.achievedAnswerRate >= 0.95 * load.targetRate,
      ),
    ],
    [
      'Server CPU per alert (idle / under load), ms',
      '—',
      `${idle.serverCpuMsPerAlert} / ${load.serverCpuMsPerAlert}`,
      '',
      '',
    ],
    [
      `Escalation timer lateness p99 (fired_at − due_at, n=${timers.latenessMs.n} of ${timers.timers.escalationSteps})`,
      `< ${TARGETS.timerP99Ms} ms`,
      ms(timers.latenessMs.p99),
      `GoAlert: engine cycle ${PEERS.goalertCycleS} s (up to ~${PEERS.goalertCycleS} s late)`,
      ok(timers.latenessMs.p99 < TARGETS.timerP99Ms && timers.timers.notDone === 0),
    ],
    [
      'Timer lateness median / max',
      '—',
      `${ms(timers.latenessMs.p50)} / ${ms(timers.latenessMs.max)}`,
      '',
      '',
    ],
    [
      `Timer lateness at the sink (Slack request − due_at) median / p99 / max (n=${timers.sinkLatenessMs.n})`,
      '—',
      `${ms(timers.sinkLatenessMs.p50)} / ${ms(timers.sinkLatenessMs.p99)} / ${ms(timers.sinkLatenessMs.max)}`,
      '',
      '',
    ],
  ];
  const table = rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
  const m = (x: { serverCores: number; benchCores: number; othersCores: number; loadavg: number[] }) =>
    `server ${x.serverCores} cores, bench ${x.benchCores}, others ${x.othersCores}, loadavg ${x.loadavg.join(' ')}`;
  return [
    `### Guardia escalation engine (${env.date}, ${env.cpus}× ${env.cpuModel}, Node ${env.node}, SQLite)`,
    '',
    table,
    '',
    `Machine during phases — idle: ${m(idle.machine)}; load: ${m(load.machine)}; timers: ${m(timers.machine)}.`,
    `Uptime at start: \`${env.uptimeStart}\`; at end: \`${env.uptimeEnd}\`.`,
    `Code measured: \`${JSON.stringify(env.code)}\`.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Main

/** The commit, how many files under src/ differ from it, and a hash of the dist/ JavaScript the server runs. */
function codeIdentity(): {
  commit: string;
  srcFilesChanged: number;
  distSha1: string;
  sqliteStatementCache: boolean;
} {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const hash = crypto.createHash('sha1');
  const walk = (dir: string) => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.js')) hash.update(entry.name).update(fs.readFileSync(file));
    }
  };
  walk(path.join(ROOT, 'dist'));
  let cache = false;
  try {
    cache = /cache\.get\(sql\)/.test(fs.readFileSync(path.join(ROOT, 'dist/store/db.js'), 'utf8'));
  } catch {
    /* no dist */
  }
  return {
    commit: git(['rev-parse', '--short', 'HEAD']),
    srcFilesChanged: git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length,
    distSha1: hash.digest('hex').slice(0, 12),
    sqliteStatementCache: cache,
  };
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `loadavg ${os.loadavg().join(' ')}`;
  }
}

async function main(): Promise<void> {
  const hard = setTimeout(() => {
    log(`bench/engine.ts: hard timeout (${HARD_TIMEOUT_MS / 60_000} min); killing the servers`);
    killAll();
    process.exit(2);
  }, HARD_TIMEOUT_MS);
  hard.unref();
  const env: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    uptimeStart: uptime(),
    options: OPTS,
  };
  log(`bench/engine.ts — ${env.uptimeStart}`);
  if (OPTS.build) {
    log('  building (tsc -p tsconfig.json) …');
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      {
        cwd: ROOT,
        stdio: 'inherit',
      },
    );
  }
  // The working tree is shared and changes between runs: identify what was measured.
  env.code = codeIdentity();
  log(`  code: ${JSON.stringify(env.code)}`);
  const sink = await Sink.start();
  let idle: Idle;
  let load: Load;
  let timers: Timers;
  let profile: ReturnType<typeof summarizeProfile>;
  let queryStats: ReturnType<typeof summarizeQueryStats>;
  let idleBreakdown: ReturnType<typeof breakdown>;
  let loadBreakdown: ReturnType<typeof breakdown>;
  try {
    const server = await startServer('latency', sink.port);
    try {
      idle = await idlePhase(server, sink);
      load = await loadPhase(server, sink);
      const first = new Map([...sink.hits].map(([k, hits]) => [k, hits[0]!]));
      idleBreakdown = breakdown(server.dbFile, 'idle', first);
      loadBreakdown = breakdown(server.dbFile, 'load', first);
    } finally {
      await stopServer(server);
    }
    profile = summarizeProfile(server.profileDir);
    queryStats = summarizeQueryStats(server, { idle: idle.alerts, load: load.alertsStoredAtEnd });
    timers = await timerPhase(sink);
  } finally {
    killAll();
    await sink.close();
    if (!OPTS.keep) for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
  env.uptimeEnd = uptime();
  env.sink = { requests: sink.total, unmatched: sink.unmatched };
  const out = {
    env,
    targets: TARGETS,
    peers: PEERS,
    idle,
    load,
    timers,
    breakdown: { idle: idleBreakdown, load: loadBreakdown },
    ...(profile ? { profile } : {}),
    ...(queryStats ? { queryStats } : {}),
  };
  const md = markdown(env, idle, load, timers);
  const json = JSON.stringify(out, null, 2);
  process.stdout.write(`${json}\n\n${md}\n`);
  const base = path.join(ROOT, 'bench/results', `engine-${stamp()}`);
  fs.mkdirSync(path.dirname(base), { recursive: true });
  fs.writeFileSync(`${base}.json`, `${json}\n`);
  fs.writeFileSync(`${base}.md`, `${md}\n`);
  log(`written: ${path.relative(ROOT, base)}.{json,md}`);
  clearTimeout(hard);
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`bench/engine.ts failed: ${(err as Error).stack ?? String(err)}`);
    killAll();
    process.exit(1);
  },
);

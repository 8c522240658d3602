/**
 * Ingest benchmark: single-alert `POST /v2/enqueue` (PagerDuty Events v2) against a real `guardia serve` on SQLite.
 *
 *   npx tsx bench/ingest.ts            (or: npm run bench:ingest)
 *
 * It compiles once (`tsc -p tsconfig.json`; `--skip-build` uses the dist/ already there), then starts
 * `node dist/cli/main.js serve` as a child on a fresh SQLite file in a temp dir and drives it with autocannon:
 *   1. unique     N (100,000) triggers, each with its own dedup_key → N incidents; server RSS read afterwards
 *   2. same key   M (10,000) triggers with one dedup_key → one open incident with alert_count M
 *   3. sustained  D (20) seconds at max rate with unique keys, per-second throughput min/mean
 *   4. the server is killed with SIGKILL (a crash) and the SQLite file is opened read-only: every 202 must be a row.
 * Then the unique phase runs once more on a fresh server at GUARDIA_LOG_LEVEL=info, to show what logging costs.
 *
 * Options: --skip-build --connections 100 --unique 100000 --same 10000 --duration 20 --info-unique 100000
 *          --no-info (skip the info variant) --profile (server under --cpu-prof plus a statement counter; runs the
 *          unique phase only and prints where the server's CPU went) --keep (keep the temp dir).
 * Results: printed as JSON and Markdown, and written to bench/results/ingest-<timestamp>.{json,md} (git-ignored).
 *
 * The load generator and the server share the machine's cores (2 on the reference machine), so the figures are
 * lower than with a separate client machine: autocannon itself uses a good part of one core.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';

// ---------------------------------------------------------------------------------------------------------------
// Options

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const num = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
};

const OPTS = {
  build: !flag('skip-build'),
  connections: num('connections', 100),
  unique: num('unique', 100_000),
  same: num('same', 10_000),
  duration: num('duration', 20),
  infoUnique: num('info-unique', num('unique', 100_000)),
  info: !flag('no-info'),
  profile: flag('profile'),
  keep: flag('keep'),
};

const TARGETS = { rps: 5_000, p99Ms: 50, rssMb: 250 };
const ROUTING_KEY = 'R0UT1NGKEYB3NCHR0UT1NGKEYB3NCH00'; // 32 characters, as PagerDuty's
const HARD_TIMEOUT_MS = 20 * 60_000;
const START_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------------------------
// The server under test

interface Server {
  child: ChildProcess;
  pid: number;
  port: number;
  dir: string;
  dbFile: string;
  logFile: string;
  stderr: () => string;
}

const servers = new Set<ChildProcess>();

async function startServer(
  label: string,
  logLevel: string,
  extraNodeArgs: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `guardia-bench-${label}-`));
  const dbFile = path.join(dir, 'bench.db');
  const logFile = path.join(dir, 'server.log');
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [...extraNodeArgs, path.join(ROOT, 'dist/cli/main.js'), 'serve'], {
    cwd: dir, // no guardia.yaml here: the built-in policy (integration "pagerduty" with $PAGERDUTY_ROUTING_KEY)
    env: {
      ...process.env,
      ...extraEnv,
      GUARDIA_HOST: '127.0.0.1',
      GUARDIA_PORT: '0',
      GUARDIA_DATABASE_URL: `sqlite:${dbFile}`,
      GUARDIA_DATA_DIR: dir,
      GUARDIA_LOG_LEVEL: logLevel,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    },
    // JSON logs go to a file, as in production; they must not cost the load generator anything.
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
  return { child, pid: child.pid!, port, dir, dbFile, logFile, stderr: () => err };
}

async function stopServer(server: Server, signal: NodeJS.Signals, timeoutMs = 15_000): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill(signal);
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
// /proc readings

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

function procStatus(pid: number): { rssMb: number; hwmMb: number } {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: mb(field('VmRSS')), hwmMb: mb(field('VmHWM')) };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) the process has used so far. */
function procCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15 of stat)
}

// ---------------------------------------------------------------------------------------------------------------
// One load phase

interface PhaseSpec {
  name: string;
  /** Builds the body of the i-th request. */
  body: (i: number) => string;
  amount?: number;
  durationS?: number;
  timeoutMs: number;
}

interface PhaseResult {
  name: string;
  requests: number;
  accepted202: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  durationS: number;
  rps: {
    mean: number;
    perSecondMin: number;
    perSecondP50: number;
    perSecondMax: number;
    fullSeconds: number;
  };
  perSecond: number[];
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p99_9: number; max: number };
  server: {
    rssAfterMb: number;
    rssPeakSampledMb: number;
    hwmMb: number;
    cpuSeconds: number;
    cpuCoresUsed: number;
    cpuUsPerRequest: number;
  };
  loadgenCpuCoresUsed: number;
  timedOut: boolean;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;

async function runPhase(server: Server, spec: PhaseSpec): Promise<PhaseResult> {
  let counter = 0;
  const statusCodes: Record<string, number> = {};
  const buckets: number[] = [];
  let t0 = 0;
  let rssPeak = 0;
  const sampler = setInterval(() => {
    try {
      rssPeak = Math.max(rssPeak, procStatus(server.pid).rssMb);
    } catch {
      /* the server is gone; the phase will fail on its own */
    }
  }, 250);
  const cpu0 = procCpuSeconds(server.pid);
  const loadgen0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  process.stderr.write(
    `  ${spec.name}: ${spec.amount ? `${spec.amount} requests` : `${spec.durationS} s`}, ${OPTS.connections} connections … `,
  );

  let timedOut = false;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${server.port}`,
        connections: OPTS.connections,
        pipelining: 1,
        timeout: 30,
        ...(spec.amount ? { amount: spec.amount } : { duration: spec.durationS! }),
        requests: [
          {
            method: 'POST',
            path: '/v2/enqueue',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: spec.body(counter++) }),
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('start', () => (t0 = Date.now()));
    instance.on('response', (_client, statusCode) => {
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      const s = Math.floor((Date.now() - (t0 || Date.now())) / 1000);
      buckets[s] = (buckets[s] ?? 0) + 1;
    });
    setTimeout(() => {
      timedOut = true;
      instance.stop();
    }, spec.timeoutMs).unref();
  });
  clearInterval(sampler);

  const wallS = Number(process.hrtime.bigint() - wall0) / 1e9;
  const loadgen = process.cpuUsage(loadgen0);
  const cpuSeconds = procCpuSeconds(server.pid) - cpu0;
  const status = procStatus(server.pid);
  // Per-second throughput over full seconds only: the last bucket is a partial second.
  const perSecond = Array.from({ length: buckets.length }, (_, i) => buckets[i] ?? 0);
  const full = perSecond.slice(0, Math.max(1, perSecond.length - 1));
  const sorted = [...full].sort((a, b) => a - b);
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const accepted202 = statusCodes['202'] ?? 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  const phase: PhaseResult = {
    name: spec.name,
    requests,
    accepted202,
    non2xx:
      requests -
      Object.entries(statusCodes)
        .filter(([c]) => c.startsWith('2'))
        .reduce((a, [, n]) => a + n, 0),
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: round(result.duration),
    rps: {
      mean: Math.round(requests / result.duration),
      perSecondMin: sorted[0] ?? 0,
      perSecondP50: percentile(sorted, 50),
      perSecondMax: sorted[sorted.length - 1] ?? 0,
      fullSeconds: full.length,
    },
    perSecond,
    latencyMs: {
      mean: round(result.latency.mean),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p99_9: result.latency.p99_9,
      max: result.latency.max,
    },
    server: {
      rssAfterMb: status.rssMb,
      rssPeakSampledMb: Math.max(rssPeak, status.rssMb),
      hwmMb: status.hwmMb,
      cpuSeconds: round(cpuSeconds),
      cpuCoresUsed: Math.round((cpuSeconds / wallS) * 100) / 100,
      cpuUsPerRequest: requests ? Math.round((cpuSeconds * 1e6) / requests) : 0,
    },
    loadgenCpuCoresUsed: Math.round(((loadgen.user + loadgen.system) / 1e6 / wallS) * 100) / 100,
    timedOut,
  };
  process.stderr.write(
    `${phase.rps.mean}/s, p99 ${phase.latencyMs.p99} ms, non-2xx ${phase.non2xx}, errors ${phase.errors}, RSS ${phase.server.rssAfterMb} MB` +
      `${timedOut ? ' (TIMED OUT)' : ''}\n`,
  );
  if (timedOut) throw new Error(`phase ${spec.name} did not finish within ${spec.timeoutMs / 1000} s`);
  return phase;
}

/** A PagerDuty Events v2 trigger of typical size (~300 bytes). */
function trigger(dedupKey: string, n: number): string {
  return JSON.stringify({
    routing_key: ROUTING_KEY,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: `High CPU on api-${n % 500}: 97% for 5m (${dedupKey})`,
      source: `api-${n % 500}.prod.example.com`,
      severity: 'error',
      component: 'api',
      group: 'prod',
      class: 'cpu',
      custom_details: { cpu_percent: 97, window: '5m', n },
    },
    client: 'bench',
  });
}

/** Time-bounded: at least 1,000 alerts/s or the phase is reported as failed. */
const amountTimeout = (amount: number) => 30_000 + amount;

// ---------------------------------------------------------------------------------------------------------------
// Checks through the store (read-only)

function openReadOnly(file: string): Database.Database {
  try {
    return new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    // After a SIGKILL the WAL may need recovery, which a read-only handle cannot always do.
    return new Database(file, { fileMustExist: true });
  }
}

function countRows(file: string, sql: string, ...params: unknown[]): number {
  const db = openReadOnly(file);
  try {
    return Number((db.prepare(sql).get(...params) as { n: number }).n);
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

interface Check {
  name: string;
  expected: number;
  actual: number;
  ok: boolean;
}

const check = (name: string, expected: number, actual: number): Check => ({
  name,
  expected,
  actual,
  ok: expected === actual,
});

async function mainRun(runId: string) {
  const server = await startServer('warn', 'warn');
  const checks: Check[] = [];
  try {
    process.stderr.write(
      `server (GUARDIA_LOG_LEVEL=warn) pid ${server.pid} on port ${server.port}, db ${server.dbFile}\n`,
    );
    const idle = procStatus(server.pid);

    const unique = await runPhase(server, {
      name: 'unique',
      amount: OPTS.unique,
      body: (i) => trigger(`${runId}-u-${i}`, i),
      timeoutMs: amountTimeout(OPTS.unique),
    });
    await sleep(2000);
    const afterIdle = procStatus(server.pid);
    checks.push(
      check(
        'unique: alert rows = 202s',
        unique.accepted202,
        countRows(server.dbFile, `select count(*) n from alerts where dedup_key like ?`, `${runId}-u-%`),
      ),
      check(
        'unique: open incidents = 202s',
        unique.accepted202,
        countRows(
          server.dbFile,
          `select count(*) n from incidents where dedup_key like ? and status <> 'resolved'`,
          `${runId}-u-%`,
        ),
      ),
    );

    const sameKey = `${runId}-same`;
    const same = await runPhase(server, {
      name: 'same key',
      amount: OPTS.same,
      body: (i) => trigger(sameKey, i),
      timeoutMs: amountTimeout(OPTS.same),
    });
    {
      const db = openReadOnly(server.dbFile);
      try {
        const open = db
          .prepare(`select id, alert_count from incidents where dedup_key = ? and status <> 'resolved'`)
          .all(sameKey) as {
          id: number;
          alert_count: number;
        }[];
        const alerts = db
          .prepare(`select outcome, count(*) n from alerts where dedup_key = ? group by outcome`)
          .all(sameKey) as {
          outcome: string;
          n: number;
        }[];
        const byOutcome = Object.fromEntries(alerts.map((a) => [a.outcome, a.n]));
        checks.push(
          check('same key: open incidents for the key', 1, open.length),
          check('same key: alert_count = 202s', same.accepted202, open[0]?.alert_count ?? 0),
          check(
            'same key: alert rows = 202s',
            same.accepted202,
            alerts.reduce((a, r) => a + r.n, 0),
          ),
          check('same key: alerts attached', same.accepted202 - 1, byOutcome.attached ?? 0),
        );
      } finally {
        db.close();
      }
    }

    const sustained = await runPhase(server, {
      name: 'sustained',
      durationS: OPTS.duration,
      body: (i) => trigger(`${runId}-s-${i}`, i),
      timeoutMs: OPTS.duration * 1000 + 30_000,
    });
    checks.push(
      check(
        'sustained: alert rows = 202s',
        sustained.accepted202,
        countRows(server.dbFile, `select count(*) n from alerts where dedup_key like ?`, `${runId}-s-%`),
      ),
    );

    // Durability: a crash (SIGKILL, no shutdown) must not lose any alert that was answered 202.
    const final = procStatus(server.pid);
    await stopServer(server, 'SIGKILL');
    const total202 = unique.accepted202 + same.accepted202 + sustained.accepted202;
    checks.push(
      check(
        'after SIGKILL: all alert rows = all 202s',
        total202,
        countRows(server.dbFile, `select count(*) n from alerts`),
      ),
    );
    const dbBytes = ['', '-wal', '-shm'].reduce(
      (a, s) => a + (fs.existsSync(server.dbFile + s) ? fs.statSync(server.dbFile + s).size : 0),
      0,
    );

    return {
      server: {
        logLevel: 'warn',
        idleRssMb: idle.rssMb,
        rssAfterUniqueMb: unique.server.rssAfterMb,
        rssAfterUniqueIdle2sMb: afterIdle.rssMb,
        hwmAtEndMb: final.hwmMb,
      },
      phases: { unique, same, sustained },
      checks,
      dbMb: Math.round(dbBytes / 1024 / 102.4) / 10,
      logBytes: fs.statSync(server.logFile).size,
      dir: server.dir,
    };
  } finally {
    await stopServer(server, 'SIGKILL');
    if (!OPTS.keep) fs.rmSync(server.dir, { recursive: true, force: true });
  }
}

async function infoRun(runId: string) {
  const server = await startServer('info', 'info');
  try {
    process.stderr.write(`server (GUARDIA_LOG_LEVEL=info) pid ${server.pid} on port ${server.port}\n`);
    const unique = await runPhase(server, {
      name: 'unique (info)',
      amount: OPTS.infoUnique,
      body: (i) => trigger(`${runId}-i-${i}`, i),
      timeoutMs: amountTimeout(OPTS.infoUnique),
    });
    await stopServer(server, 'SIGKILL');
    const rows = countRows(server.dbFile, `select count(*) n from alerts`);
    const logBytes = fs.statSync(server.logFile).size;
    return {
      unique,
      checks: [check('info: alert rows = 202s (after SIGKILL)', unique.accepted202, rows)],
      logBytes,
      logBytesPerRequest: unique.requests ? Math.round(logBytes / unique.requests) : 0,
    };
  } finally {
    await stopServer(server, 'SIGKILL');
    if (!OPTS.keep) fs.rmSync(server.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Profile mode: where does the server's CPU go?

/** Preloaded into the server: counts and times every statement better-sqlite3 prepares and runs. */
const QUERY_COUNTER = `
import { createRequire } from 'node:module';
import fs from 'node:fs';
const require = createRequire(process.cwd() + '/');
const Database = require(${JSON.stringify(path.join(ROOT, 'node_modules/better-sqlite3'))});
let stats = new Map();
const entry = (sql) => {
  const key = sql.replace(/\\s+/g, ' ').slice(0, 110);
  let e = stats.get(key);
  if (!e) stats.set(key, (e = { prepares: 0, prepareNs: 0n, runs: 0, runNs: 0n }));
  return e;
};
let patched = false;
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (sql) {
  const t = process.hrtime.bigint();
  const stmt = prepare.call(this, sql);
  const e = entry(sql);
  e.prepares++;
  e.prepareNs += process.hrtime.bigint() - t;
  if (!patched) {
    patched = true;
    const proto = Object.getPrototypeOf(stmt);
    for (const m of ['run', 'get', 'all']) {
      const orig = proto[m];
      proto[m] = function (...args) {
        const t0 = process.hrtime.bigint();
        try { return orig.apply(this, args); } finally {
          const e2 = entry(this.source);
          e2.runs++;
          e2.runNs += process.hrtime.bigint() - t0;
        }
      };
    }
  }
  return stmt;
};
process.on('SIGUSR2', () => { stats = new Map(); });
process.on('exit', () => {
  const out = [...stats].map(([sql, e]) => ({ sql, prepares: e.prepares, prepareMs: Number(e.prepareNs) / 1e6, runs: e.runs, runMs: Number(e.runNs) / 1e6 }));
  fs.writeFileSync(process.env.BENCH_QUERY_STATS, JSON.stringify(out));
});
`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

function summarizeProfile(file: string) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
  };
  const totalUs = prof.endTime - prof.startTime;
  const usPerHit = totalUs / prof.samples.length;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const where = (url: string) => {
    if (!url) return '(native/vm)';
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (nm) return nm[1]!;
    if (url.includes('/dist/')) return 'guardia ' + url.slice(url.indexOf('/dist/') + 6);
    if (url.startsWith('node:')) return url;
    return url;
  };
  const selfByFn = new Map<string, number>();
  const selfByPkg = new Map<string, number>();
  for (const n of prof.nodes) {
    const us = (n.hitCount ?? 0) * usPerHit;
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    selfByFn.set(fn, (selfByFn.get(fn) ?? 0) + us);
    const pkg = n.callFrame.url
      ? where(n.callFrame.url)
          .replace(/^guardia .*/, 'guardia (dist)')
          .replace(/^node:.*/, 'node internals')
      : n.callFrame.functionName;
    selfByPkg.set(pkg, (selfByPkg.get(pkg) ?? 0) + us);
  }
  // Inclusive time of selected frames (counted once per stack, so recursion is not double counted).
  const inclusive = new Map<string, number>();
  const walk = (id: number, active: Set<string>) => {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName;
    const add = name && !active.has(name);
    if (add) active.add(name);
    for (const a of active) inclusive.set(a, (inclusive.get(a) ?? 0) + (n.hitCount ?? 0) * usPerHit);
    for (const c of n.children ?? []) walk(c, active);
    if (add) active.delete(name);
  };
  walk(prof.nodes[0]!.id, new Set());
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 1000),
        pct: Math.round((us / totalUs) * 1000) / 10,
      }));
  const wanted = [
    'commitBatch',
    'apply',
    'openIncident',
    'insertAlert',
    'findOpenByDedupKey',
    'findRecentlyResolved',
    'appendTimeline',
    'insertIncident',
    'executeQuery',
    'compileQuery',
    'compile',
    'prepare',
    'pagerDuty',
    'validatePagerDutyEvent',
    'pagerDutyToAlert',
    'routeAlert',
    'computeDueDates',
    'parseJsonBody',
    'genReqId',
    'write',
    'asJson',
    'LOG',
    'onResponse',
    'inc',
    'serialize',
    'parseOptions',
    'toISOString',
  ];
  return {
    profiledMs: Math.round(totalUs / 1000),
    selfByPackage: top(selfByPkg, 15),
    selfByFunction: top(selfByFn, 30),
    inclusive: wanted
      .filter((w) => inclusive.has(w))
      .map((w) => ({
        name: w,
        ms: Math.round(inclusive.get(w)! / 1000),
        pct: Math.round((inclusive.get(w)! / totalUs) * 1000) / 10,
      }))
      .sort((a, b) => b.ms - a.ms),
  };
}

async function profileRun(runId: string) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-bench-prof-'));
  const preload = path.join(tmp, 'count-queries.mjs');
  const statsFile = path.join(tmp, 'queries.json');
  const profDir = path.join(tmp, 'cpuprofile');
  fs.writeFileSync(preload, QUERY_COUNTER);
  const server = await startServer(
    'profile',
    'warn',
    ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--import', preload],
    { BENCH_QUERY_STATS: statsFile },
  );
  try {
    process.stderr.write(
      `profiling server pid ${server.pid} (--cpu-prof and a statement counter add overhead)\n`,
    );
    server.child.kill('SIGUSR2'); // forget the migration's statements
    await sleep(200);
    const unique = await runPhase(server, {
      name: 'unique (profiled)',
      amount: OPTS.unique,
      body: (i) => trigger(`${runId}-p-${i}`, i),
      timeoutMs: amountTimeout(OPTS.unique) * 2,
    });
    await stopServer(server, 'SIGTERM', 60_000); // a clean exit writes the profile and the statement counts
    const profFile = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!profFile) throw new Error('no .cpuprofile written');
    const queries = (
      JSON.parse(fs.readFileSync(statsFile, 'utf8')) as {
        sql: string;
        prepares: number;
        prepareMs: number;
        runs: number;
        runMs: number;
      }[]
    ).sort((a, b) => b.runs - a.runs);
    const alerts = unique.accepted202;
    const totals = queries.reduce(
      (a, q) => ({
        runs: a.runs + q.runs,
        prepares: a.prepares + q.prepares,
        prepareMs: a.prepareMs + q.prepareMs,
        runMs: a.runMs + q.runMs,
      }),
      {
        runs: 0,
        prepares: 0,
        prepareMs: 0,
        runMs: 0,
      },
    );
    const keptProfile = path.join(ROOT, 'bench/results', `ingest-profile-${stamp()}.cpuprofile`);
    fs.mkdirSync(path.dirname(keptProfile), { recursive: true });
    fs.copyFileSync(path.join(profDir, profFile), keptProfile);
    return {
      unique,
      cpuprofile: path.relative(ROOT, keptProfile),
      statements: {
        perAlert: Math.round((totals.runs / alerts) * 100) / 100,
        preparesPerAlert: Math.round((totals.prepares / alerts) * 100) / 100,
        prepareUsPerAlert: Math.round((totals.prepareMs * 1000) / alerts),
        executeUsPerAlert: Math.round((totals.runMs * 1000) / alerts),
        byStatement: queries.map((q) => ({
          sql: q.sql,
          runs: q.runs,
          perAlert: Math.round((q.runs / alerts) * 1000) / 1000,
          prepareUsEach: q.prepares ? Math.round((q.prepareMs * 1000 * 10) / q.prepares) / 10 : 0,
          runUsEach: q.runs ? Math.round((q.runMs * 1000 * 10) / q.runs) / 10 : 0,
        })),
      },
      profile: summarizeProfile(path.join(profDir, profFile)),
    };
  } finally {
    await stopServer(server, 'SIGKILL');
    if (!OPTS.keep) {
      fs.rmSync(server.dir, { recursive: true, force: true });
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
const fmt = (n: number) => n.toLocaleString('en-US');
const yes = (ok: boolean) => (ok ? '✅' : '❌');

type MainRun = Awaited<ReturnType<typeof mainRun>>;
type InfoRun = Awaited<ReturnType<typeof infoRun>>;

function markdown(env: Record<string, unknown>, main: MainRun, info: InfoRun | undefined): string {
  const { unique, same, sustained } = main.phases;
  const i = info?.unique;
  const dash = '–';
  const am = 'Alertmanager (issue)';
  const rows: string[][] = [
    ['Metric', 'Guardia, log warn', 'Guardia, log info', 'Target', 'Met (warn)', am],
    [
      '**1. unique** (' + fmt(unique.requests) + ' alerts): req/s mean',
      fmt(unique.rps.mean),
      i ? fmt(i.rps.mean) : dash,
      '≥ 5,000',
      yes(unique.rps.mean >= TARGETS.rps),
      '~7,000–11,000',
    ],
    [
      'unique: req/s p50 over seconds (min–max)',
      `${fmt(unique.rps.perSecondP50)} (${fmt(unique.rps.perSecondMin)}–${fmt(unique.rps.perSecondMax)})`,
      i ? `${fmt(i.rps.perSecondP50)} (${fmt(i.rps.perSecondMin)}–${fmt(i.rps.perSecondMax)})` : dash,
      '≥ 5,000',
      yes(unique.rps.perSecondP50 >= TARGETS.rps),
      dash,
    ],
    [
      'unique: latency p50 / p90 / p99 / max (ms)',
      lat(unique),
      i ? lat(i) : dash,
      'p99 < 50',
      yes(unique.latencyMs.p99 < TARGETS.p99Ms),
      dash,
    ],
    [
      'unique: non-2xx / socket errors',
      `${unique.non2xx} / ${unique.errors}`,
      i ? `${i.non2xx} / ${i.errors}` : dash,
      '0',
      yes(unique.non2xx === 0 && unique.errors === 0),
      dash,
    ],
    [
      'unique: server RSS after (MB)',
      `${unique.server.rssAfterMb} (2 s idle: ${main.server.rssAfterUniqueIdle2sMb})`,
      i ? String(i.server.rssAfterMb) : dash,
      '< 250',
      yes(unique.server.rssAfterMb < TARGETS.rssMb),
      '> 400',
    ],
    [
      'unique: server peak RSS VmHWM (MB)',
      String(unique.server.hwmMb),
      i ? String(i.server.hwmMb) : dash,
      '< 250',
      yes(unique.server.hwmMb < TARGETS.rssMb),
      dash,
    ],
    [
      'unique: server CPU (cores used, µs/alert)',
      `${unique.server.cpuCoresUsed}, ${unique.server.cpuUsPerRequest}`,
      i ? `${i.server.cpuCoresUsed}, ${i.server.cpuUsPerRequest}` : dash,
      dash,
      dash,
      dash,
    ],
    [
      'unique: autocannon CPU (cores used)',
      String(unique.loadgenCpuCoresUsed),
      i ? String(i.loadgenCpuCoresUsed) : dash,
      dash,
      dash,
      dash,
    ],
    [
      '**2. same key** (' + fmt(same.requests) + ' alerts): req/s mean',
      fmt(same.rps.mean),
      dash,
      '≥ 5,000',
      yes(same.rps.mean >= TARGETS.rps),
      dash,
    ],
    [
      'same key: latency p50 / p90 / p99 / max (ms)',
      lat(same),
      dash,
      'p99 < 50',
      yes(same.latencyMs.p99 < TARGETS.p99Ms),
      dash,
    ],
    [
      'same key: one open incident, alert_count',
      `${main.checks.find((c) => c.name.includes('open incidents for'))?.actual}, ${fmt(main.checks.find((c) => c.name.includes('alert_count'))?.actual ?? 0)}`,
      dash,
      `1, ${fmt(same.accepted202)}`,
      yes(main.checks.filter((c) => c.name.startsWith('same')).every((c) => c.ok)),
      dash,
    ],
    [
      `**3. sustained** (${sustained.durationS} s): req/s mean`,
      fmt(sustained.rps.mean),
      dash,
      '≥ 5,000',
      yes(sustained.rps.mean >= TARGETS.rps),
      dash,
    ],
    [
      'sustained: req/s per second min / p50 / max',
      `${fmt(sustained.rps.perSecondMin)} / ${fmt(sustained.rps.perSecondP50)} / ${fmt(sustained.rps.perSecondMax)}`,
      dash,
      'min ≥ 5,000',
      yes(sustained.rps.perSecondMin >= TARGETS.rps),
      dash,
    ],
    [
      'sustained: latency p50 / p90 / p99 / max (ms)',
      lat(sustained),
      dash,
      'p99 < 50',
      yes(sustained.latencyMs.p99 < TARGETS.p99Ms),
      dash,
    ],
    [
      'sustained: server RSS after / VmHWM (MB)',
      `${sustained.server.rssAfterMb} / ${sustained.server.hwmMb}`,
      dash,
      '< 250',
      yes(sustained.server.hwmMb < TARGETS.rssMb),
      dash,
    ],
    [
      '**Durability**: alert rows after SIGKILL = 202s',
      `${fmt(main.checks.at(-1)!.actual)} = ${fmt(main.checks.at(-1)!.expected)}`,
      info ? `${fmt(info.checks[0]!.actual)} = ${fmt(info.checks[0]!.expected)}` : dash,
      'equal',
      yes(main.checks.every((c) => c.ok)),
      dash,
    ],
  ];
  const table = rows
    .map((r, n) => `| ${r.join(' | ')} |` + (n === 0 ? `\n|${r.map(() => '---').join('|')}|` : ''))
    .join('\n');
  const failed = [...main.checks, ...(info?.checks ?? [])].filter((c) => !c.ok);
  return [
    `## Guardia ingest benchmark (${env.date})`,
    '',
    `Single-alert \`POST /v2/enqueue\` (PagerDuty Events v2 trigger, ~${env.bodyBytes} B), SQLite (WAL, synchronous=NORMAL), every 202 committed before it is sent. ` +
      `autocannon ${OPTS.connections} connections, pipelining 1, on the same machine as the server ` +
      `(${env.cpus}× ${env.cpuModel}, Node ${env.node}): the load generator takes ~${unique.loadgenCpuCoresUsed} of the ${env.cpus} cores, so these are lower bounds.`,
    '',
    table,
    '',
    `Checks: ${failed.length ? failed.map((c) => `❌ ${c.name}: expected ${c.expected}, got ${c.actual}`).join('; ') : 'all passed'} ` +
      `(${[...main.checks, ...(info?.checks ?? [])].map((c) => c.name).join('; ')}).`,
    info ? `Logging at info writes ${info.logBytesPerRequest} B of JSON per request (to a file).` : '',
    `Sustained per-second throughput: ${sustained.perSecond.join(', ')}.`,
  ].join('\n');
}

const lat = (p: PhaseResult) =>
  `${p.latencyMs.p50} / ${p.latencyMs.p90} / ${p.latencyMs.p99} / ${p.latencyMs.max}`;

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const hard = setTimeout(() => {
    process.stderr.write(
      `bench: hard timeout of ${HARD_TIMEOUT_MS / 60_000} min reached, killing the server\n`,
    );
    killAll();
    process.exit(3);
  }, HARD_TIMEOUT_MS);
  hard.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('exit', killAll);

  if (OPTS.build) {
    process.stderr.write('building: tsc -p tsconfig.json\n');
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')],
      { cwd: ROOT, stdio: 'inherit' },
    );
  } else if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` or drop --skip-build');
  }

  const runId = `b${Date.now().toString(36)}`;
  const cpus = os.cpus();
  const env = {
    date: new Date().toISOString(),
    node: process.versions.node,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memMb: Math.round(os.totalmem() / 1024 / 1024),
    bodyBytes: Buffer.byteLength(trigger(`${runId}-u-12345`, 12345)),
    connections: OPTS.connections,
    pipelining: 1,
    note: 'autocannon and the server share the same cores; figures are lower bounds for a separate client machine',
  };
  const outDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `ingest-${stamp()}`);

  if (OPTS.profile) {
    const prof = await profileRun(runId);
    const out = { env, options: OPTS, ...prof };
    fs.writeFileSync(`${base}-profile.json`, JSON.stringify(out, null, 2));
    console.log(JSON.stringify(out, null, 2));
    process.stderr.write(`written: ${path.relative(ROOT, base)}-profile.json, ${prof.cpuprofile}\n`);
    return;
  }

  const main = await mainRun(runId);
  const info = OPTS.info ? await infoRun(runId) : undefined;
  const md = markdown(env, main, info);
  const verdict = {
    throughput:
      main.phases.unique.rps.mean >= TARGETS.rps && main.phases.sustained.rps.perSecondMin >= TARGETS.rps,
    p99: [main.phases.unique, main.phases.same, main.phases.sustained].every(
      (p) => p.latencyMs.p99 < TARGETS.p99Ms,
    ),
    rss: main.phases.unique.server.rssAfterMb < TARGETS.rssMb,
    durable: [...main.checks, ...(info?.checks ?? [])].every((c) => c.ok),
  };
  const out = { env, options: OPTS, targets: TARGETS, verdict, main, info };
  fs.writeFileSync(`${base}.json`, JSON.stringify(out, null, 2));
  fs.writeFileSync(`${base}.md`, md + '\n');
  console.log(JSON.stringify(out, null, 2));
  console.log('\n' + md);
  process.stderr.write(`written: ${path.relative(ROOT, base)}.json and .md\n`);
  if (!verdict.durable) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  killAll();
  process.exitCode = 1;
});

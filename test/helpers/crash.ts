/**
 * Crash-test machinery shared by test/e2e/durability.test.ts (`npm test`) and test/chaos/* (`npm run test:chaos`):
 * the real server as a child process, an ingest storm that records every request answered 202, a seeded source
 * of "random moments", and the checks that must hold after every restart (every 202 is stored, with its key and
 * incident; per-key counts cover the 202s; no dedup key has two open incidents).
 *
 * The child runs an esbuild bundle of src/cli/main.ts (the same sources, bundled once per test file, packages
 * left external) instead of `--import tsx`: on a busy CI machine that halves each restart, and a crash test is
 * mostly restarts. Set GUARDIA_CRASH_TSX=1 to run the sources through tsx instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { openStore } from '../../src/store/db.js';
import type { Database } from '../../src/store/schema.js';
import { PG_URL } from './harness.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'src/cli/main.ts');

export const READY_TIMEOUT_MS = 60_000;
export const EXIT_TIMEOUT_MS = 10_000;
const CLI_TIMEOUT_MS = 60_000;

/** How the child is started: `node ...args <command>`. */
export interface ServerCommand {
  args: string[];
  cleanup(): void;
}

/** Bundles the CLI once (about a second) into node_modules/.cache so its packages resolve from the repository. */
export async function serverCommand(): Promise<ServerCommand> {
  const viaTsx = () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { args: ['--import', tsx, MAIN], cleanup: () => undefined };
  };
  if (process.env.GUARDIA_CRASH_TSX === '1') return viaTsx();
  // esbuild comes with tsx and vitest (it is not a direct dependency): without it, run the sources through tsx.
  const esbuild = await import('esbuild').catch(() => undefined);
  if (!esbuild) return viaTsx();
  const dir = path.join(
    ROOT,
    'node_modules/.cache/guardia-crash',
    `${process.pid}-${crypto.randomBytes(4).toString('hex')}`,
  );
  const outfile = path.join(dir, 'main.mjs');
  await esbuild.build({
    entryPoints: [MAIN],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
  return { args: [outfile], cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The environment of this process without any Guardia configuration (so the parent's never leaks in). */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      k.startsWith('GUARDIA_') ||
      k.startsWith('SLACK_') ||
      k === 'SMTP_URL' ||
      k === 'GITHUB_TOKEN' ||
      k === 'GENERIC_TOKEN' ||
      k === 'PAGERDUTY_ROUTING_KEY'
    )
      continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningServer {
  proc: ChildProcess;
  baseUrl: string;
  exited: Promise<Exit>;
  stderr(): string;
  /** Milliseconds from spawn to the banner. */
  startMs: number;
}

const children = new Set<ChildProcess>();

export function waitExit(proc: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null)
      return resolve({ code: proc.exitCode, signal: proc.signalCode });
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts `guardia serve` and resolves once its banner names the port it listens on. */
export async function startServer(
  command: ServerCommand,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<RunningServer> {
  const started = Date.now();
  // stdout carries one JSON log line per request: discard it so a full pipe can never stall the server.
  const proc = spawn(process.execPath, [...command.args, 'serve'], {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
  });
  children.add(proc);
  const exited = waitExit(proc).finally(() => children.delete(proc));
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  const ready = new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /Guardia is serving on (http:\/\/\S+:\d+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    void exited.then((e) =>
      reject(new Error(`server exited before it was ready (${JSON.stringify(e)}):\n${stderr}`)),
    );
  });
  try {
    const baseUrl = await withTimeout(ready, READY_TIMEOUT_MS, `server banner; stderr so far:\n${stderr}`);
    return { proc, baseUrl, exited, stderr: () => stderr, startMs: Date.now() - started };
  } catch (err) {
    proc.kill('SIGKILL');
    await withTimeout(exited, EXIT_TIMEOUT_MS, 'server exit after failed start').catch(() => undefined);
    throw err;
  }
}

/** SIGKILLs a server and waits for the exit; returns the signal seen. */
export async function killServer(server: RunningServer): Promise<Exit> {
  server.proc.kill('SIGKILL');
  return withTimeout(server.exited, EXIT_TIMEOUT_MS, 'server exit after SIGKILL');
}

/** Stops a server with SIGTERM (graceful) and returns its exit. */
export async function stopServer(server: RunningServer): Promise<Exit> {
  server.proc.kill('SIGTERM');
  return withTimeout(server.exited, EXIT_TIMEOUT_MS, 'server exit after SIGTERM');
}

/** Kills every child this module started (afterAll). */
export async function killChildren(): Promise<void> {
  const all = [...children];
  for (const child of all) child.kill('SIGKILL');
  await Promise.all(
    all.map((c) => withTimeout(waitExit(c), EXIT_TIMEOUT_MS, 'child exit').catch(() => undefined)),
  );
}

/** Runs the real CLI in a child process (asynchronously, so a server child keeps being served). */
export function runCli(
  command: ServerCommand,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [...command.args, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  children.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    proc.once('close', (code) => {
      children.delete(proc);
      resolve({ code, stdout, stderr });
    });
  });
  return withTimeout(done, CLI_TIMEOUT_MS, `guardia ${args.join(' ')}`).catch((err: unknown) => {
    proc.kill('SIGKILL');
    throw err;
  });
}

/** A small seeded PRNG (mulberry32), so a failing run's kill moments can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** GUARDIA_CHAOS_SEED replays a run; otherwise a fresh seed (printed by the tests). */
export function chaosSeed(): number {
  const fromEnv = Number(process.env.GUARDIA_CHAOS_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : crypto.randomInt(1, 2 ** 31);
}

/** One request answered 202: what was sent, and what the server said it did with it (when the body arrived). */
export interface Promised {
  cycle: number;
  title: string;
  dedupKey: string;
  alertId?: number;
  incidentId?: number | null;
}

export interface StormOptions {
  baseUrl: string;
  token: string;
  cycle: number;
  inFlight: number;
  /** The dedup key of the n-th alert of this storm. */
  key(n: number): string;
  severity?(n: number): string;
  /** Title prefix; the title `${prefix} c${cycle} n${n}` identifies the alert. */
  prefix?: string;
  /** 503 store_unavailable is an expected answer (a dependency is down): count it and go on. */
  allowUnavailable?: boolean;
  /** Pause between requests of one worker (ms). */
  pauseMs?: number;
}

export interface StormResult {
  sent: number;
  accepted: number;
  /** 503 store_unavailable answers (only with allowUnavailable). */
  unavailable: number;
  /** HTTP answers other than 202 (and 503 when allowed): none are expected while the server lives. */
  unexpected: string[];
  /** Network failures before stop() (none are expected while the server lives). */
  networkErrors: string[];
}

export interface Storm {
  /** Resolves at the first 202. */
  first: Promise<void>;
  result: StormResult;
  stop(): void;
  done: Promise<unknown>;
}

/** Fires generic alerts with `inFlight` workers (keep-alive) until `stop()`; records every 202 in `promised`. */
export function startStorm(options: StormOptions, promised: Promised[]): Storm {
  let stopped = false;
  let next = 0;
  let firstAccepted!: () => void;
  const first = new Promise<void>((resolve) => (firstAccepted = resolve));
  const result: StormResult = { sent: 0, accepted: 0, unavailable: 0, unexpected: [], networkErrors: [] };
  const url = `${options.baseUrl}/hooks/generic`;
  const prefix = options.prefix ?? 'storm';

  const worker = async () => {
    while (!stopped) {
      const n = next++;
      const dedupKey = options.key(n);
      const title = `${prefix} c${options.cycle} n${n}`;
      result.sent++;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            title,
            dedup_key: dedupKey,
            severity: options.severity?.(n) ?? (n % 2 ? 'critical' : 'warning'),
            source: 'crash-storm',
          }),
          signal: AbortSignal.timeout(20_000),
        });
        if (res.status !== 202) {
          const text = await res.text().catch(() => '');
          if (res.status === 503 && options.allowUnavailable && text.includes('store_unavailable')) {
            result.unavailable++;
            await sleep(20);
          } else if (!stopped) result.unexpected.push(`${res.status} ${text.slice(0, 300)}`);
          continue;
        }
        // The status line is the promise: record it before reading the body (a kill may cut the body off).
        const entry: Promised = { cycle: options.cycle, title, dedupKey };
        promised.push(entry);
        result.accepted++;
        firstAccepted();
        try {
          const body = (await res.json()) as { results: { alert_id: number; incident_id: number | null }[] };
          entry.alertId = body.results[0]!.alert_id;
          entry.incidentId = body.results[0]!.incident_id;
        } catch {
          // Body lost with the process: the title still identifies the alert.
        }
      } catch (err) {
        if (!stopped) result.networkErrors.push(String((err as Error).cause ?? err));
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  const done = Promise.all(Array.from({ length: options.inFlight }, worker));
  return {
    first,
    result,
    stop() {
      stopped = true;
    },
    done,
  };
}

export interface StoreCheck {
  problems: string[];
  alerts: number;
  incidents: number;
}

/**
 * What must hold in the store at any moment after a restart: every promised alert is a row (same title, key,
 * and — when the 202's body arrived — the same alert and incident ids); per dedup key, alert rows and the
 * incidents' alert_count cover the 202s; no dedup key has two open incidents.
 */
export async function checkStore(db: Kysely<Database>, promised: Promised[]): Promise<StoreCheck> {
  const rows = await db.selectFrom('alerts').select(['id', 'title', 'dedup_key', 'incident_id']).execute();
  const incidents = await db
    .selectFrom('incidents')
    .select(['id', 'dedup_key', 'status', 'alert_count'])
    .execute();
  const problems: string[] = [];
  const byTitle = new Map(rows.map((r) => [r.title, r]));
  const rowsPerKey = new Map<string, number>();
  for (const r of rows) rowsPerKey.set(r.dedup_key, (rowsPerKey.get(r.dedup_key) ?? 0) + 1);
  const accepted = new Map<string, number>();
  for (const p of promised) accepted.set(p.dedupKey, (accepted.get(p.dedupKey) ?? 0) + 1);

  for (const p of promised) {
    const row = byTitle.get(p.title);
    if (!row) problems.push(`${p.title} (key ${p.dedupKey}): answered 202, no alert row`);
    else if (row.dedup_key !== p.dedupKey)
      problems.push(`${p.title}: stored with key ${row.dedup_key}, sent ${p.dedupKey}`);
    else if (p.alertId !== undefined && (Number(row.id) !== p.alertId || row.incident_id !== p.incidentId))
      problems.push(
        `${p.title}: 202 said alert ${p.alertId}/incident ${p.incidentId}, store has ${row.id}/${row.incident_id}`,
      );
  }
  const incidentsPerKey = new Map<string, typeof incidents>();
  for (const i of incidents)
    if (i.dedup_key) incidentsPerKey.set(i.dedup_key, [...(incidentsPerKey.get(i.dedup_key) ?? []), i]);
  for (const [key, count] of accepted) {
    if ((rowsPerKey.get(key) ?? 0) < count)
      problems.push(`${key}: ${count} answered 202, ${rowsPerKey.get(key) ?? 0} alert rows`);
    const list = incidentsPerKey.get(key) ?? [];
    if (list.length === 0) problems.push(`${key}: ${count} alert(s) answered 202 but no incident`);
    const total = list.reduce((sum, i) => sum + Number(i.alert_count), 0);
    if (total < count) problems.push(`${key}: ${count} alert(s) answered 202 but alert_count is ${total}`);
  }
  for (const [key, list] of incidentsPerKey) {
    const open = list.filter((i) => i.status !== 'resolved');
    if (open.length > 1)
      problems.push(`${key}: ${open.length} open incidents (${open.map((i) => i.id).join(', ')})`);
  }
  return { problems, alerts: rows.length, incidents: incidents.length };
}

/**
 * A fresh PostgreSQL database for one test (the server takes a database URL, not a schema), dropped afterwards.
 */
export async function createPgDatabase(prefix = 'guardia_chaos'): Promise<{
  name: string;
  url: string;
  drop(): Promise<void>;
}> {
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface CrashLoopOptions {
  label: string;
  command: ServerCommand;
  /** Working and data directory of the server. */
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The store the server uses (opened here for the checks after each restart). */
  dbUrl: string;
  token: string;
  kills: number;
  random: () => number;
  /** The kill comes this long after the cycle's first 202: uniformly inside [min, max] ms. */
  killWindowMs: [number, number];
  inFlight: number;
  /** Dedup key of the n-th alert of a cycle (default: one in three shares one of eight keys across the run). */
  key?(cycle: number, n: number): string;
  severity?(n: number): string;
  prefix?: string;
  /** Called while the storm runs, before the kill is scheduled (e.g. to wait for engine work). */
  beforeKill?(server: RunningServer, cycle: number): Promise<void>;
  /** Called after each restart's check, before the next storm. */
  afterRestart?(server: RunningServer, cycle: number): Promise<void>;
  /** After the random delay, the kill also waits (up to 3 s) for this to hold, e.g. "a page is on the wire". */
  killWhen?(): boolean;
  /** Called right before each SIGKILL, to observe what was in flight. */
  atKill?(cycle: number): void;
}

export interface CrashLoopResult {
  promised: Promised[];
  kills: number;
  sent: number;
  /** Store checks run (one after every restart, the last one after the final restart). */
  checks: number;
  /** Sum over the checks of the promised alerts each one verified. */
  alertsVerified: number;
  startMs: number[];
  killDelaysMs: number[];
  /** The server of the final restart, still running: the caller checks more and stops it. */
  server: RunningServer;
}

const defaultKey = (cycle: number, n: number) => (n % 3 === 0 ? `shared-${n % 8}` : `u-${cycle}-${n}`);

/**
 * `kills` cycles of: start the server on the same store → check the store → storm → SIGKILL at a random moment;
 * then a last start and check. Throws (through expect) at the first check that finds a problem.
 */
export async function crashLoop(
  options: CrashLoopOptions,
  expectProblems: (problems: string[], what: string) => void,
): Promise<CrashLoopResult> {
  const promised: Promised[] = [];
  const result: Omit<CrashLoopResult, 'server'> = {
    promised,
    kills: 0,
    sent: 0,
    checks: 0,
    alertsVerified: 0,
    startMs: [],
    killDelaysMs: [],
  };
  const check = async (what: string) => {
    const store = await openStore({ url: options.dbUrl, migrate: false });
    try {
      const verdict = await checkStore(store.db, promised);
      result.checks++;
      result.alertsVerified += promised.length;
      expectProblems(
        verdict.problems.slice(0, 20),
        `${options.label} ${what}: ${verdict.problems.length} problem(s)`,
      );
    } finally {
      await store.close();
    }
  };
  const key = options.key ?? defaultKey;
  const [lo, hi] = options.killWindowMs;
  for (let cycle = 1; cycle <= options.kills; cycle++) {
    const server = await startServer(options.command, options.dir, options.env);
    result.startMs.push(server.startMs);
    if (cycle > 1) await check(`after restart ${cycle - 1}`);
    await options.afterRestart?.(server, cycle);
    const storm = startStorm(
      {
        baseUrl: server.baseUrl,
        token: options.token,
        cycle,
        inFlight: options.inFlight,
        key: (n) => key(cycle, n),
        ...(options.severity ? { severity: options.severity } : {}),
        ...(options.prefix ? { prefix: options.prefix } : {}),
      },
      promised,
    );
    const delay = Math.round(lo + (hi - lo) * options.random());
    try {
      await withTimeout(storm.first, 30_000, `${options.label}: first 202 of cycle ${cycle}`);
      await options.beforeKill?.(server, cycle);
      await sleep(delay);
      for (const until = Date.now() + 3_000; options.killWhen && !options.killWhen() && Date.now() < until;)
        await sleep(2);
    } finally {
      // Mid-storm: `inFlight` requests are on the wire when the process dies.
      storm.stop();
      options.atKill?.(cycle);
      server.proc.kill('SIGKILL');
    }
    const exit = await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'server exit after SIGKILL');
    await withTimeout(storm.done, 30_000, 'storm workers to finish');
    if (exit.signal !== 'SIGKILL')
      throw new Error(`cycle ${cycle}: server exited with ${JSON.stringify(exit)}`);
    expectProblems(storm.result.unexpected.slice(0, 5), `${options.label} cycle ${cycle}: non-202 answers`);
    expectProblems(
      storm.result.networkErrors.slice(0, 5),
      `${options.label} cycle ${cycle}: network errors before the kill`,
    );
    result.kills++;
    result.sent += storm.result.sent;
    result.killDelaysMs.push(delay);
  }
  const server = await startServer(options.command, options.dir, options.env);
  result.startMs.push(server.startMs);
  await check(`after the last restart`);
  return { ...result, server };
}

/** Every incident through the API (paginated), with an admin token the CLI creates on the same store. */
export async function listIncidentsViaApi(
  command: ServerCommand,
  server: RunningServer,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ id: number; dedup_key: string | null; status: string; alert_count: number }[]> {
  const created = await runCli(
    command,
    ['tokens', 'create', '--role', 'admin', '--name', 't', '--json'],
    dir,
    env,
  );
  if (created.code !== 0) throw new Error(`tokens create failed: ${created.stderr}`);
  const token = (JSON.parse(created.stdout) as { token: string }).token;
  const incidents: { id: number; dedup_key: string | null; status: string; alert_count: number }[] = [];
  for (let before: string | null = '', pages = 0; before !== null; pages++) {
    if (pages > 500) throw new Error('too many pages');
    const res = await fetch(
      `${server.baseUrl}/api/v1/incidents?status=all&limit=500${before ? `&before=${before}` : ''}`,
      { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) },
    );
    if (res.status !== 200) throw new Error(`GET /api/v1/incidents: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { incidents: typeof incidents; next_cursor: string | null };
    incidents.push(...page.incidents);
    before = page.next_cursor;
  }
  return incidents;
}

/** The API view must agree with the 202s: each key's incidents cover its count, each 202's incident is the key's. */
export function apiProblems(
  incidents: { id: number; dedup_key: string | null; status: string; alert_count: number }[],
  promised: Promised[],
): string[] {
  const byKey = new Map<string, typeof incidents>();
  for (const i of incidents) if (i.dedup_key) byKey.set(i.dedup_key, [...(byKey.get(i.dedup_key) ?? []), i]);
  const accepted = new Map<string, number>();
  for (const p of promised) accepted.set(p.dedupKey, (accepted.get(p.dedupKey) ?? 0) + 1);
  const problems: string[] = [];
  for (const [key, list] of byKey) {
    const open = list.filter((i) => i.status !== 'resolved');
    if (open.length > 1)
      problems.push(`${key}: ${open.length} open incidents (${open.map((i) => i.id).join(', ')})`);
  }
  for (const [key, count] of accepted) {
    const total = (byKey.get(key) ?? []).reduce((sum, i) => sum + i.alert_count, 0);
    if (total < count) problems.push(`${key}: ${count} alert(s) answered 202 but alert_count is ${total}`);
  }
  // Nothing resolves during the storm, so every alert of a key was attached to that key's one incident.
  for (const p of promised) {
    if (p.incidentId === undefined) continue;
    const ids = (byKey.get(p.dedupKey) ?? []).map((i) => i.id);
    if (!ids.includes(p.incidentId!))
      problems.push(
        `${p.title}: 202 named incident ${p.incidentId}, key ${p.dedupKey} has [${ids.join(', ')}]`,
      );
  }
  return problems;
}

/**
 * End-to-end durability: "an alert answered 202 is on disk". The real server runs as a child process on a
 * temp-dir SQLite file; the test fires a storm of generic alerts (bounded concurrency, keep-alive), records every
 * request answered 202, and SIGKILLs the server mid-storm. Three crash cycles on the same database, then a clean
 * start: every promised alert must be there (same row, same dedup key, same incident), per-key alert counts must
 * cover the 202s, and no dedup key may ever have two open incidents.
 * Requests that failed because the process died were never promised, so they may or may not be stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'src/cli/main.ts');
/** `--import tsx`, resolved from the repository so the child can run with any working directory. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const GENERIC_TOKEN = 'e2e-durability-generic-token-0123456789';
const CYCLES = 3;
/** How long each storm runs (after its first 202) before the SIGKILL; spread over the 300-1000 ms window. */
const KILL_AFTER_MS = [350, 650, 950];
const IN_FLIGHT = 32;
const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
const CLI_TIMEOUT_MS = 60_000;

/** The environment of this process without any Guardia configuration (so the parent's never leaks in). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GUARDIA_') || k === 'GENERIC_TOKEN' || k === 'PAGERDUTY_ROUTING_KEY') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface RunningServer {
  proc: ChildProcess;
  baseUrl: string;
  exited: Promise<Exit>;
  stderr(): string;
}

const children = new Set<ChildProcess>();

function waitExit(proc: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null)
      return resolve({ code: proc.exitCode, signal: proc.signalCode });
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts `guardia serve` and resolves once its banner names the port it listens on. */
async function startServer(cwd: string, env: NodeJS.ProcessEnv): Promise<RunningServer> {
  // stdout carries one JSON log line per request: discard it so a full pipe can never stall the server.
  const proc = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], {
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
    return { proc, baseUrl, exited, stderr: () => stderr };
  } catch (err) {
    proc.kill('SIGKILL');
    await withTimeout(exited, EXIT_TIMEOUT_MS, 'server exit after failed start').catch(() => undefined);
    throw err;
  }
}

/** Runs the real CLI in a child process (asynchronously, so the server child keeps being served). */
function guardia(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
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

/** One request answered 202: what was sent, and what the server said it did with it (when the body arrived). */
interface Promised {
  cycle: number;
  title: string;
  dedupKey: string;
  alertId?: number;
  incidentId?: number | null;
}

interface StormResult {
  sent: number;
  accepted: number;
  /** HTTP answers other than 202 (none are expected while the server lives). */
  unexpected: string[];
  /** Network failures before the kill (none are expected). */
  errorsBeforeKill: string[];
}

/**
 * Fires alerts with IN_FLIGHT workers until `stop()` flips; two in three alerts get a unique dedup key, one in
 * three one of eight keys shared by the whole run (so those attach to one incident across crashes).
 */
function startStorm(baseUrl: string, cycle: number, promised: Promised[]) {
  let stopped = false;
  let next = 0;
  let firstAccepted!: () => void;
  const first = new Promise<void>((resolve) => (firstAccepted = resolve));
  const result: StormResult = { sent: 0, accepted: 0, unexpected: [], errorsBeforeKill: [] };
  const url = `${baseUrl}/hooks/generic`;

  const worker = async () => {
    while (!stopped) {
      const n = next++;
      const dedupKey = n % 3 === 0 ? `shared-${n % 8}` : `u-${cycle}-${n}`;
      const title = `storm c${cycle} n${n}`;
      result.sent++;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${GENERIC_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            title,
            dedup_key: dedupKey,
            severity: n % 2 ? 'critical' : 'warning',
            source: 'e2e-storm',
          }),
          signal: AbortSignal.timeout(15_000),
        });
        if (res.status !== 202) {
          const text = await res.text().catch(() => '');
          if (!stopped) result.unexpected.push(`${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        // The status line is the promise: record it before reading the body (the kill may cut the body off).
        const entry: Promised = { cycle, title, dedupKey };
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
        if (!stopped) result.errorsBeforeKill.push(String((err as Error).cause ?? err));
      }
    }
  };
  const workers = Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return {
    first,
    result,
    stop() {
      stopped = true;
    },
    done: workers,
  };
}

describe('durability: an alert answered 202 is on disk (survives kill -9)', () => {
  let dir: string;
  let dbUrl: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-e2e-durability-'));
    dbUrl = `sqlite:${path.join(dir, 'g.db')}`;
    env = cleanEnv({
      GUARDIA_DATABASE_URL: dbUrl,
      GUARDIA_DATA_DIR: dir,
      GUARDIA_PORT: '0',
      GUARDIA_HOST: '127.0.0.1',
      GENERIC_TOKEN,
    });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(
      [...children].map((c) =>
        withTimeout(waitExit(c), EXIT_TIMEOUT_MS, 'child exit').catch(() => undefined),
      ),
    );
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every 202 across three SIGKILLs mid-storm, with one open incident per dedup key', async () => {
    const promised: Promised[] = [];

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const server = await startServer(dir, env);
      const storm = startStorm(server.baseUrl, cycle, promised);
      try {
        await withTimeout(storm.first, 20_000, `first 202 of cycle ${cycle}`);
        await new Promise((r) => setTimeout(r, KILL_AFTER_MS[cycle - 1]));
      } finally {
        // Mid-storm: IN_FLIGHT requests are on the wire when the process dies.
        storm.stop();
        server.proc.kill('SIGKILL');
      }
      const exit = await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'server exit after SIGKILL');
      await withTimeout(storm.done, 30_000, 'storm workers to finish');
      expect(exit.signal).toBe('SIGKILL');
      expect(storm.result.unexpected, 'non-202 answers while the server was alive').toEqual([]);
      expect(storm.result.errorsBeforeKill, 'network errors before the kill').toEqual([]);
      expect(storm.result.accepted).toBeGreaterThan(0);
      console.log(
        `cycle ${cycle}: sent ${storm.result.sent}, answered 202: ${storm.result.accepted}, then SIGKILL`,
      );
    }

    // Last restart on the same database: it must come up on what the crashes left behind.
    const server = await startServer(dir, env);
    try {
      const accepted = new Map<string, number>();
      for (const p of promised) accepted.set(p.dedupKey, (accepted.get(p.dedupKey) ?? 0) + 1);

      // 1. Through the API, with an admin token the CLI creates on the same database.
      const created = await guardia(
        ['tokens', 'create', '--role', 'admin', '--name', 't', '--json'],
        dir,
        env,
      );
      expect(created.code, created.stderr).toBe(0);
      const token = (JSON.parse(created.stdout) as { token: string }).token;
      const incidents: { id: number; dedup_key: string | null; status: string; alert_count: number }[] = [];
      for (let before: string | null = '', pages = 0; before !== null; pages++) {
        expect(pages).toBeLessThan(200);
        const res = await fetch(
          `${server.baseUrl}/api/v1/incidents?status=all&limit=500${before ? `&before=${before}` : ''}`,
          {
            headers: { authorization: `Bearer ${token}` },
            signal: AbortSignal.timeout(15_000),
          },
        );
        expect(res.status).toBe(200);
        const page = (await res.json()) as { incidents: typeof incidents; next_cursor: string | null };
        incidents.push(...page.incidents);
        before = page.next_cursor;
      }
      const byKey = new Map<string, typeof incidents>();
      for (const i of incidents)
        if (i.dedup_key) byKey.set(i.dedup_key, [...(byKey.get(i.dedup_key) ?? []), i]);
      const problems: string[] = [];
      for (const [key, list] of byKey) {
        const open = list.filter((i) => i.status !== 'resolved');
        if (open.length > 1)
          problems.push(`${key}: ${open.length} open incidents (${open.map((i) => i.id).join(', ')})`);
      }
      for (const [key, count] of accepted) {
        const list = byKey.get(key) ?? [];
        if (list.length === 0) problems.push(`${key}: ${count} alert(s) answered 202 but no incident`);
        const total = list.reduce((sum, i) => sum + i.alert_count, 0);
        if (total < count)
          problems.push(`${key}: ${count} alert(s) answered 202 but alert_count is ${total}`);
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
      expect(problems.slice(0, 20), `API view after the crashes: ${problems.length} problem(s)`).toEqual([]);

      // 2. Directly in the store: the very alert rows that were promised.
      const store = await openStore({ url: dbUrl, migrate: false });
      try {
        const rows = await store.db
          .selectFrom('alerts')
          .select(['id', 'title', 'dedup_key', 'incident_id'])
          .execute();
        const byTitle = new Map(rows.map((r) => [r.title, r]));
        const perKey = new Map<string, number>();
        for (const r of rows) perKey.set(r.dedup_key, (perKey.get(r.dedup_key) ?? 0) + 1);
        const missing: string[] = [];
        for (const p of promised) {
          const row = byTitle.get(p.title);
          if (!row) missing.push(`${p.title} (key ${p.dedupKey}): answered 202, no alert row`);
          else if (row.dedup_key !== p.dedupKey)
            missing.push(`${p.title}: stored with key ${row.dedup_key}, sent ${p.dedupKey}`);
          else if (
            p.alertId !== undefined &&
            (Number(row.id) !== p.alertId || row.incident_id !== p.incidentId)
          )
            missing.push(
              `${p.title}: 202 said alert ${p.alertId}/incident ${p.incidentId}, store has ${row.id}/${row.incident_id}`,
            );
        }
        for (const [key, count] of accepted) {
          if ((perKey.get(key) ?? 0) < count)
            missing.push(`${key}: ${count} answered 202, ${perKey.get(key) ?? 0} alert rows`);
        }
        expect(missing.slice(0, 20), `store view after the crashes: ${missing.length} problem(s)`).toEqual(
          [],
        );

        const doubles = await store.db
          .selectFrom('incidents')
          .select(['dedup_key', (eb) => eb.fn.countAll<number>().as('n')])
          .where('status', '<>', 'resolved')
          .where('dedup_key', 'is not', null)
          .groupBy('dedup_key')
          .having((eb) => eb.fn.countAll(), '>', 1)
          .execute();
        expect(doubles).toEqual([]);
      } finally {
        await store.close();
      }
      console.log(
        `after ${CYCLES} SIGKILLs: ${promised.length} alerts answered 202, all stored; ${incidents.length} incidents`,
      );
    } finally {
      server.proc.kill('SIGTERM');
      const exit = await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'server exit after SIGTERM');
      expect(exit.code).toBe(0);
    }
  }, 120_000);
});

/**
 * End-to-end CLI: `guardia incidents …` and `guardia tokens …` run as a user runs them (a child process on a
 * temp-dir SQLite file), checking output, JSON shapes and exit codes (0 ok, 1 refused, 2 usage/not found).
 * Then the server runs on the same database: an alert it accepts shows in the CLI's list, and a token the CLI
 * created opens the API (which echoes the caller's X-Request-Id).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'src/cli/main.ts');
/** `--import tsx`, resolved from the repository so the child can run with any working directory. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const GENERIC_TOKEN = 'e2e-cli-generic-token-0123456789abcdef';
const CLI_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
/** CLI commands are slow to start under tsx on a busy machine: give each test room for several of them. */
const TEST_TIMEOUT_MS = 180_000;

interface Incident {
  id: number;
  title: string;
  severity: string;
  status: string;
  dedup_key: string | null;
  started_at: string;
  ack_due_at: string;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  alert_count: number;
  timeline?: { kind: string; actor: string; message: string; data: Record<string, unknown> }[];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-e2e-cli-'));
  tempDirs.push(dir);
  return dir;
}

/** The environment of this process without any Guardia configuration (so the parent's never leaks in). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GUARDIA_') || k === 'GENERIC_TOKEN' || k === 'PAGERDUTY_ROUTING_KEY') continue;
    env[k] = v;
  }
  return { ...env, USER: 'e2e-tester', ...extra };
}

function waitExit(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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

/** Runs the real CLI in a child process, asynchronously (a server child may be running beside it). */
function guardia(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  const proc = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  children.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<Run>((resolve) => {
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

function json<T>(run: Run): T {
  expect(run.code, `exit code; stderr: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(
    [...children].map((c) => withTimeout(waitExit(c), EXIT_TIMEOUT_MS, 'child exit').catch(() => undefined)),
  );
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('guardia incidents and tokens, from a terminal', () => {
  let cwd: string;
  let db: string;
  let id: number;
  /** `--database sqlite:<tmp>/g.db` on every command (the env var is covered below). */
  const cli = (...args: string[]) => guardia([...args, '--database', db], { cwd });

  beforeAll(() => {
    cwd = tempDir();
    db = `sqlite:${path.join(cwd, 'g.db')}`;
  });

  it(
    'declares a sev1 whose acknowledgement is due 5 minutes after it started',
    async () => {
      const incident = json<Incident>(
        await cli('incidents', 'declare', '--title', 'Checkout down', '--severity', 'sev1', '--json'),
      );
      expect(incident).toMatchObject({ title: 'Checkout down', severity: 'sev1', status: 'triggered' });
      expect(Date.parse(incident.ack_due_at) - Date.parse(incident.started_at)).toBe(5 * 60_000);
      expect(Math.abs(Date.parse(incident.started_at) - Date.now())).toBeLessThan(60_000);
      id = incident.id;
      expect(Number.isInteger(id) && id > 0).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'lists it for people and as JSON (the database also comes from GUARDIA_DATABASE_URL)',
    async () => {
      const human = await cli('incidents', 'list');
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toContain('Checkout down');
      expect(human.stdout).toMatch(new RegExp(`^\\s*${id}\\s+sev1\\s+triggered\\b`, 'm'));

      const viaEnv = json<{ incidents: Incident[]; next_cursor: string | null }>(
        await guardia(['incidents', 'list', '--json'], { cwd, env: { GUARDIA_DATABASE_URL: db } }),
      );
      expect(viaEnv.incidents.map((i) => [i.id, i.title, i.status])).toEqual([
        [id, 'Checkout down', 'triggered'],
      ]);
      expect(viaEnv.next_cursor).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'acknowledges; a second ack is refused with exit 1 naming who acknowledged first',
    async () => {
      const ack = await cli('incidents', 'ack', String(id));
      expect(ack.code, ack.stderr).toBe(0);
      expect(ack.stdout).toContain(`Incident ${id} is now acknowledged.`);

      const again = await cli('incidents', 'ack', String(id));
      expect(again.code).toBe(1);
      expect(again.stdout).toBe('');
      expect(again.stderr).toContain('already acknowledged');
      expect(again.stderr).toContain('cli:e2e-tester');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'resolves with a note that shows on the timeline',
    async () => {
      const resolved = json<Incident>(
        await cli('incidents', 'resolve', String(id), '--note', 'rolled back', '--json'),
      );
      expect(resolved).toMatchObject({
        id,
        status: 'resolved',
        resolved_by: 'cli:e2e-tester',
        acknowledged_by: 'cli:e2e-tester',
      });
      expect(resolved.resolved_at).not.toBeNull();

      const shown = json<Incident>(await cli('incidents', 'show', String(id), '--json'));
      expect(shown.status).toBe('resolved');
      // State changes in order; the escalation engine's own entries (plan, stop) sit between them.
      const states = ['declared', 'acknowledged', 'mitigated', 'resolved'];
      const kinds = shown.timeline!.map((e) => e.kind).filter((k) => states.includes(k));
      expect(kinds).toEqual(states);
      const last = shown.timeline!.find((e) => e.kind === 'resolved')!;
      expect(last.message).toContain('rolled back');
      expect(last.data).toEqual({ note: 'rolled back' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 2 for an unknown incident and for an unknown severity, naming the problem',
    async () => {
      // Independent refusals: run them side by side (each CLI start costs seconds under tsx).
      const [missing, missingJson, badSeverity] = await Promise.all([
        cli('incidents', 'ack', '999'),
        cli('incidents', 'ack', '999', '--json'),
        cli('incidents', 'declare', '--severity', 'sev9', '--title', 'x'),
      ]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('not found');

      expect(missingJson.code).toBe(2);
      expect(JSON.parse(missingJson.stderr)).toMatchObject({ error: { code: 'not_found' } });

      expect(badSeverity.code).toBe(2);
      expect(badSeverity.stdout).toBe('');
      expect(badSeverity.stderr).toMatch(/severity/);
      expect(badSeverity.stderr).toContain('sev9');

      // Nothing was declared by the refused command.
      const all = json<{ incidents: Incident[] }>(
        await cli('incidents', 'list', '--status', 'all', '--json'),
      );
      expect(all.incidents.map((i) => i.title)).toEqual(['Checkout down']);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'creates API tokens ("gdn_…", stored only as a hash) and refuses an unknown role with exit 2',
    async () => {
      const [created, root] = await Promise.all([
        cli('tokens', 'create', '--role', 'admin', '--name', 'ci', '--json'),
        cli('tokens', 'create', '--role', 'root', '--name', 'x'),
      ]);
      const token = json<{ id: number; name: string; role: string; token: string }>(created);
      expect(token).toMatchObject({ name: 'ci', role: 'admin' });
      expect(token.token).toMatch(/^gdn_/);
      // Only its hash is kept: the value is nowhere in the database files.
      const file = db.slice('sqlite:'.length);
      for (const f of [file, `${file}-wal`].filter((f) => fs.existsSync(f))) {
        expect(fs.readFileSync(f).includes(token.token), f).toBe(false);
      }

      expect(root.code).toBe(2);
      expect(root.stdout).toBe('');
      expect(root.stderr).toContain('--role must be one of');
    },
    TEST_TIMEOUT_MS,
  );
});

describe('the CLI and a running server share one store', () => {
  let cwd: string;
  let db: string;
  let server: ChildProcess;
  let baseUrl: string;
  let serverStderr = '';

  beforeAll(async () => {
    cwd = tempDir();
    db = `sqlite:${path.join(cwd, 'g.db')}`;
    server = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], {
      cwd,
      env: cleanEnv({
        GUARDIA_DATABASE_URL: db,
        GUARDIA_DATA_DIR: cwd,
        GUARDIA_PORT: '0',
        GUARDIA_HOST: '127.0.0.1',
        GENERIC_TOKEN,
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: false,
    });
    children.add(server);
    const exited = waitExit(server).finally(() => children.delete(server));
    server.stderr!.setEncoding('utf8');
    baseUrl = await withTimeout(
      new Promise<string>((resolve, reject) => {
        server.stderr!.on('data', (chunk: string) => {
          serverStderr += chunk;
          const match = /Guardia is serving on (http:\/\/\S+:\d+)/.exec(serverStderr);
          if (match) resolve(match[1]!);
        });
        void exited.then((e) =>
          reject(new Error(`server exited before it was ready (${JSON.stringify(e)}):\n${serverStderr}`)),
        );
      }),
      READY_TIMEOUT_MS,
      'server banner',
    );
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const exit = await withTimeout(waitExit(server), EXIT_TIMEOUT_MS, 'server exit after SIGTERM').catch(
        () => {
          server.kill('SIGKILL');
          return null;
        },
      );
      expect(exit?.code).toBe(0);
    }
  });

  it(
    'an alert the server accepted is in `incidents list --json`',
    async () => {
      const res = await fetch(`${baseUrl}/hooks/generic`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GENERIC_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: 'Payments latency high',
          severity: 'critical',
          dedup_key: 'e2e-payments',
          source: 'e2e',
        }),
        signal: AbortSignal.timeout(15_000),
      });
      expect(res.status).toBe(202);
      const accepted = (await res.json()) as { results: { incident_id: number; outcome: string }[] };
      expect(accepted.results[0]).toMatchObject({ outcome: 'opened' });

      const list = json<{ incidents: Incident[] }>(
        await guardia(['incidents', 'list', '--json', '--database', db], { cwd }),
      );
      expect(list.incidents).toHaveLength(1);
      expect(list.incidents[0]).toMatchObject({
        id: accepted.results[0]!.incident_id,
        title: 'Payments latency high',
        dedup_key: 'e2e-payments',
        status: 'triggered',
        alert_count: 1,
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a token the CLI created opens the API, which echoes the caller's X-Request-Id",
    async () => {
      const { token } = json<{ token: string }>(
        await guardia(['tokens', 'create', '--role', 'viewer', '--name', 'dashboard', '--json'], {
          cwd,
          env: { GUARDIA_DATABASE_URL: db },
        }),
      );

      const res = await fetch(`${baseUrl}/api/v1/incidents?status=all`, {
        headers: { authorization: `Bearer ${token}`, 'x-request-id': 'e2e-cli-req-42' },
        signal: AbortSignal.timeout(15_000),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('e2e-cli-req-42');
      const body = (await res.json()) as { incidents: Incident[] };
      expect(body.incidents.map((i) => i.title)).toEqual(['Payments latency high']);

      // Without a sane id the server makes one up; a wrong token is refused.
      const refused = await fetch(`${baseUrl}/api/v1/incidents`, {
        headers: { authorization: 'Bearer gdn_not-a-real-token' },
        signal: AbortSignal.timeout(15_000),
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    },
    TEST_TIMEOUT_MS,
  );
});

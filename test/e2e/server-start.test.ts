/**
 * End-to-end first start: `guardia serve` in an empty directory with no configuration (only GUARDIA_PORT=0, so
 * parallel runs never clash on a port). It must come up on its defaults, say so on stderr (store, integrations
 * still waiting for their secret, how to get a token), create ./data with the database and an owner-only secret
 * key, answer the health checks, log JSON with request ids but never a token, and stop cleanly on SIGTERM.
 * The default port itself (8080) is checked through loadConfig, since 8080 may be taken on the test machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'src/cli/main.ts');
/** `--import tsx`, resolved from the repository so the child can run with any working directory. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
/** Secrets the test sends; none may ever appear in the logs. */
const QUERY_TOKEN = 'e2e-query-secret-5b1f0c2d9a';
const HEADER_TOKEN = 'e2e-header-secret-77c3e8a4f1';
const API_TOKEN = 'gdn_e2e-api-secret-0d9e2b7c64';

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

describe('guardia serve with no configuration, in an empty directory', () => {
  let cwd: string;
  let server: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let baseUrl: string;
  let stdout = '';
  let stderr = '';
  let banner = '';

  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-e2e-start-'));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (k.startsWith('GUARDIA_') || k === 'GENERIC_TOKEN' || k === 'PAGERDUTY_ROUTING_KEY') continue;
      env[k] = v;
    }
    env.GUARDIA_PORT = '0';
    server = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    exited = waitExit(server);
    server.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    server.stderr!.setEncoding('utf8');
    baseUrl = await withTimeout(
      new Promise<string>((resolve, reject) => {
        server.stderr!.on('data', (chunk: string) => {
          stderr += chunk;
          // The banner is written in one piece; wait for its last line.
          const match = /Guardia is serving on (http:\/\/\S+:\d+)/.exec(stderr);
          if (match && /tokens create/.test(stderr)) resolve(match[1]!);
        });
        void exited.then((e) =>
          reject(new Error(`server exited before it was ready (${JSON.stringify(e)}):\n${stderr}`)),
        );
      }),
      READY_TIMEOUT_MS,
      'server banner',
    );
    banner = stderr;
  }, READY_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await withTimeout(exited, EXIT_TIMEOUT_MS, 'server exit').catch(() => undefined);
    }
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('says on stderr where it serves, which store, which integrations wait for a secret, and how to get a token', () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(baseUrl).port)).toBeGreaterThan(0);
    expect(banner).toMatch(/^Guardia is serving on http:\/\/127\.0\.0\.1:\d+\n/);
    expect(banner).toContain('store:  SQLite ./data/guardia.db');
    expect(banner).toContain('integration generic (generic): refusing alerts until GENERIC_TOKEN is set');
    expect(banner).toContain(
      'integration pagerduty (pagerduty): refusing alerts until PAGERDUTY_ROUTING_KEY is set',
    );
    expect(banner).toContain('create a token:  npx guardia tokens create --role admin --name <you>');
  });

  it('creates ./data/guardia.db and an owner-only ./data/secret.key in its working directory', () => {
    expect(fs.statSync(path.join(cwd, 'data', 'guardia.db')).isFile()).toBe(true);
    const key = fs.statSync(path.join(cwd, 'data', 'secret.key'));
    expect(key.isFile()).toBe(true);
    expect((key.mode & 0o777).toString(8)).toBe('600');
    expect(
      fs.readFileSync(path.join(cwd, 'data', 'secret.key'), 'utf8').trim().length,
    ).toBeGreaterThanOrEqual(32);
  });

  it('answers /healthz and /readyz with 200', async () => {
    const health = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'sqlite' });
  });

  it('refuses alerts while GENERIC_TOKEN is unset, whatever token is sent', async () => {
    const viaQuery = await fetch(`${baseUrl}/hooks/generic?token=${QUERY_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'e2e-start-query' },
      body: JSON.stringify({ title: 'disk full' }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(viaQuery.status).toBe(401);
    expect(((await viaQuery.json()) as { error: { message: string } }).error.message).toContain(
      'GENERIC_TOKEN',
    );

    const viaHeader = await fetch(`${baseUrl}/hooks/generic`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${HEADER_TOKEN}`,
        'x-request-id': 'e2e-start-header',
      },
      body: JSON.stringify({ title: 'disk full' }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(viaHeader.status).toBe(401);

    const api = await fetch(`${baseUrl}/api/v1/incidents?token=${QUERY_TOKEN}`, {
      headers: { authorization: `Bearer ${API_TOKEN}`, 'x-request-id': 'e2e-start-api' },
      signal: AbortSignal.timeout(10_000),
    });
    expect(api.status).toBe(401);
    expect(api.headers.get('x-request-id')).toBe('e2e-start-api');
  });

  it('stops gracefully on SIGTERM (exit 0 within 5 s); its JSON logs carry request ids and never a token', async () => {
    server.kill('SIGTERM');
    const exit = await withTimeout(exited, 5_000, 'graceful exit after SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    // The pipe may still hold the last lines after the exit event.
    await withTimeout(
      new Promise<void>((resolve) =>
        server.stdout!.readableEnded ? resolve() : server.stdout!.once('end', () => resolve()),
      ),
      EXIT_TIMEOUT_MS,
      'server stdout to end',
    );

    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    const records = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`stdout line is not JSON: ${line}`);
      }
    });
    const requests = records.filter((r) => r.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const r of requests) expect(typeof r.request_id, JSON.stringify(r)).toBe('string');
    const byId = new Map(requests.map((r) => [r.request_id, r]));
    expect(byId.get('e2e-start-query')).toMatchObject({
      method: 'POST',
      path: '/hooks/generic',
      status: 401,
    });
    expect(byId.get('e2e-start-header')).toMatchObject({
      method: 'POST',
      path: '/hooks/generic',
      status: 401,
    });
    expect(byId.get('e2e-start-api')).toMatchObject({
      method: 'GET',
      path: '/api/v1/incidents',
      status: 401,
    });
    expect(records.some((r) => r.msg === 'shutting down' && r.signal === 'SIGTERM')).toBe(true);

    for (const secret of [QUERY_TOKEN, HEADER_TOKEN, API_TOKEN]) expect(stdout).not.toContain(secret);
    expect(stderr).not.toContain(QUERY_TOKEN);
    expect(stderr).not.toContain(HEADER_TOKEN);
    expect(stderr).not.toContain(API_TOKEN);
  }, 20_000);
});

describe('defaults when nothing is configured (loadConfig)', () => {
  it('listens on 127.0.0.1:8080 and keeps its data in ./data/guardia.db', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: 'sqlite:./data/guardia.db',
      dataDir: './data',
      logLevel: 'info',
    });
  });

  it('lets GUARDIA_* variables and then flags override the defaults', () => {
    const env = {
      GUARDIA_PORT: '0',
      GUARDIA_HOST: '0.0.0.0',
      GUARDIA_DATABASE_URL: 'sqlite:/tmp/x.db',
      GUARDIA_DATA_DIR: '/tmp/d',
    };
    expect(loadConfig({}, env)).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      databaseUrl: 'sqlite:/tmp/x.db',
      dataDir: '/tmp/d',
    });
    expect(loadConfig({ port: '9090', host: '::1' }, env)).toMatchObject({ host: '::1', port: 9090 });
  });

  it('refuses a port that is not a port, naming GUARDIA_PORT', () => {
    expect(() => loadConfig({}, { GUARDIA_PORT: '80800' })).toThrow(/GUARDIA_PORT must be a port number/);
    expect(() => loadConfig({}, { GUARDIA_PORT: 'http' })).toThrow(/GUARDIA_PORT/);
  });
});

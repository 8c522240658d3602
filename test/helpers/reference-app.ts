/**
 * Starting the reference app (examples/reference-app) for playbook tests: a fresh MariaDB/MySQL database, its own
 * BullMQ prefix (and, on request, its own redis-server), one or more app instances and the TLS-terminator stand-in,
 * all as real child processes. Defaults are a healthy production configuration with every fault switch off; tests
 * break it through `env`/`instanceEnv` exactly as the README's fault switches say.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { ROOT, TSX_LOADER } from './cli.js';

export interface ReferenceAppOptions {
  /** Env overrides for every instance (switches); a key set to undefined removes a default (e.g. TRUST_PROXY). */
  env?: Record<string, string | undefined>;
  /** Number of app instances sharing the database and Redis (default 1). */
  instances?: number;
  /** Per-instance env overrides, index-aligned (e.g. a different JWT_SECRET on instance 1). */
  instanceEnv?: Record<string, string | undefined>[];
  /** Start the TLS-terminator stand-in in front of instance 0 (default true). */
  proxy?: boolean;
  /** Start a private redis-server (/usr/bin/redis-server) on a free port instead of using 127.0.0.1:6379,
   *  with this maxmemory-policy (default noeviction) — so tests can change Redis config safely. */
  privateRedis?: { maxmemoryPolicy?: string };
}

export interface ReferenceApp {
  appUrl: string; // instance 0, direct
  urls: string[]; // every instance, direct
  proxyUrl?: string; // through the proxy (to instance 0)
  envFile: string; // a KEY=VALUE file with instance 0's full environment (what Guardia's --env-file reads)
  env: Record<string, string>; // instance 0's environment as given to the app
  mysqlDsn: string; // mysql://root@127.0.0.1:3306/<fresh database>
  database: string;
  redisUrl: string;
  queuePrefix: string; // unique per app so tests in parallel do not share queues
  logFile: string; // instance 0's log file (other instances: logFiles)
  logFiles: string[];
  secrets: string[]; // every secret value in use (JWT_SECRET, COOKIE_SECRET of every instance, SEED_PASSWORD)
  login: { email: string; password: string; tenantId: string }; // tenant 1's owner
  stop(): Promise<void>; // SIGTERM everything, drop the database, remove temp files, stop private redis
}

export const REFAPP_DIR = path.join(ROOT, 'examples/reference-app');
const APP_MAIN = path.join(REFAPP_DIR, 'src/main.ts');
const PROXY_MAIN = path.join(REFAPP_DIR, 'src/proxy.ts');
/** Server (no database) for the fresh databases; `REFAPP_TEST_MYSQL_URL` points elsewhere (e.g. a MySQL 8). */
const MYSQL_SERVER = (process.env.REFAPP_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const SHARED_REDIS = process.env.REFAPP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const REDIS_SERVER_BIN = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 30_000;

/** Every child still running, killed if the test process exits without stop(). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

function secret(): string {
  return randomBytes(36).toString('base64url'); // 48 characters
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `base` with `overrides` applied: a string sets, undefined removes. */
function applyEnv(base: Record<string, string>, overrides?: Record<string, string | undefined>) {
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** The few variables a child needs from the test process (never NODE_ENV, NODE_OPTIONS or Guardia settings). */
function processBasics(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

interface Started {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Spawns a tsx entry point and resolves with the URL of its `{"msg":"listening","url":…}` stdout line. */
function startNode(name: string, entry: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, entry], {
    cwd: ROOT,
    env: { ...processBasics(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-16_384);
  });
  return new Promise<Started>((resolve, reject) => {
    let done = false;
    const fail = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${name} ${why}\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout.slice(-4_096)}`));
    };
    const timer = setTimeout(
      () => fail(`did not print its listening line within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`));
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      if (done) return;
      stdout += c;
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as { msg?: unknown; url?: unknown };
          if (parsed.msg === 'listening' && typeof parsed.url === 'string') {
            done = true;
            clearTimeout(timer);
            resolve({ child, url: parsed.url, stderr: () => stderr });
            return;
          }
        } catch {
          // a partial line; wait for the rest
        }
      }
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
function terminate(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startPrivateRedis(dir: string, policy: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER_BIN,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--maxmemory-policy',
      policy,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  track(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 10 s:\n${output}`));
    }, 10_000);
    const onData = (c: string) => {
      output += c;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${output}`));
    });
  });
  return { child, url: `redis://127.0.0.1:${port}/0` };
}

async function dropDatabase(database: string): Promise<void> {
  const conn = await mysql.createConnection(`${MYSQL_SERVER}/`);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await conn.end();
  }
}

async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Starts the reference app as the options say; see ReferenceApp. Rejects (with the child's stderr) when an
 *  instance does not print its listening line within 30 s, after cleaning up whatever did start. */
export async function startReferenceApp(options: ReferenceAppOptions = {}): Promise<ReferenceApp> {
  const id = randomBytes(5).toString('hex');
  const database = `refapp_${id}`;
  const queuePrefix = `refapp-${id}`;
  const mysqlDsn = `${MYSQL_SERVER}/${database}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'refapp-'));
  const children: ChildProcess[] = [];
  let redis: { child: ChildProcess; url: string } | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map((c) => terminate(c)));
    const errors: unknown[] = [];
    await dropDatabase(database).catch((e: unknown) => errors.push(e));
    if (redis) await terminate(redis.child, 5_000);
    else await deleteQueueKeys(SHARED_REDIS, queuePrefix).catch((e: unknown) => errors.push(e));
    await rm(dir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  };

  try {
    if (options.privateRedis)
      redis = await startPrivateRedis(dir, options.privateRedis.maxmemoryPolicy ?? 'noeviction');
    const redisUrl = redis?.url ?? SHARED_REDIS;
    const count = Math.max(1, options.instances ?? 1);
    const shared: Record<string, string> = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: mysqlDsn,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      JWT_SECRET: secret(),
      COOKIE_SECRET: secret(),
      COOKIE_SAMESITE: 'lax',
      COOKIE_SECURE: 'true',
      TRUST_PROXY: '1',
      CLIENT_URL: 'https://app.example.test',
      SEED: '1',
      SEED_PASSWORD: `pw-${randomBytes(12).toString('base64url')}`,
    };
    const envs = Array.from({ length: count }, (_, i) =>
      applyEnv(
        applyEnv(
          { ...shared, INSTANCE_ID: `${queuePrefix}-${i}`, LOG_FILE: path.join(dir, `app-${i}.log`) },
          options.env,
        ),
        options.instanceEnv?.[i],
      ),
    );
    const started = await Promise.allSettled(
      envs.map((env, i) => startNode(`reference app instance ${i}`, APP_MAIN, env)),
    );
    for (const s of started) if (s.status === 'fulfilled') children.push(s.value.child);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const urls = started.map((s) => (s as PromiseFulfilledResult<Started>).value.url);

    let proxyUrl: string | undefined;
    if (options.proxy ?? true) {
      const proxy = await startNode('proxy', PROXY_MAIN, { PROXY_PORT: '0', UPSTREAM_URL: urls[0]! });
      children.push(proxy.child);
      proxyUrl = proxy.url;
    }

    const env0 = envs[0]!;
    const envFile = path.join(dir, 'app.env');
    await writeFile(
      envFile,
      `${Object.entries(env0)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
      { mode: 0o600 },
    );
    const secrets = [
      ...new Set(
        envs.flatMap((e) => [e.JWT_SECRET, e.COOKIE_SECRET, e.SEED_PASSWORD]).filter((v): v is string => !!v),
      ),
    ];
    const logFiles = envs.map((e) => e.LOG_FILE ?? '');
    return {
      appUrl: urls[0]!,
      urls,
      proxyUrl,
      envFile,
      env: env0,
      mysqlDsn,
      database,
      redisUrl,
      queuePrefix,
      logFile: logFiles[0]!,
      logFiles,
      secrets,
      login: {
        email: 'owner@tenant1.example',
        password: env0.SEED_PASSWORD ?? 'correct horse battery staple',
        tenantId: '1',
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

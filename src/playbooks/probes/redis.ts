/**
 * The Redis probe of the playbooks: one lazily connected ioredis client per check, with a connect timeout, no
 * reconnection (an unreachable server is one error, not a retry storm), a per-command timeout, and always
 * `QUIT` (or a hard disconnect when the connection is broken or the check's signal aborts).
 */
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { redactText } from '../redact.js';
import type { ProbeOutcome } from './mysql.js';

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
  /** What findings may show: scheme, user, host, port and db — never the password. */
  display: string;
}

export class RedisUrlError extends Error {}

/** Parses `redis://[user[:pass]@]host[:port][/db]` (or `rediss://`). The error never repeats the URL. */
export function parseRedisUrl(redisUrl: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new RedisUrlError('the Redis URL is not a URL (expected redis://[:pass@]host:port/db)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new RedisUrlError(`the Redis URL must start with redis:// or rediss:// (got ${url.protocol}//)`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = url.port ? Number(url.port) : 6379;
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const dbText = url.pathname.replace(/^\//, '') || url.searchParams.get('db') || '0';
  const db = Number.parseInt(dbText, 10) || 0;
  const user = username ? `${encodeURIComponent(username)}@` : '';
  const display = `${url.protocol}//${user}${url.host || host}/${db}`;
  return { host, port, username, password, db, tls: url.protocol === 'rediss:', display };
}

/** The URL as findings may show it; `<unparseable Redis URL>` when it is not one. */
export function displayRedisUrl(redisUrl: string): string {
  try {
    return parseRedisUrl(redisUrl).display;
  } catch {
    return '<unparseable Redis URL>';
  }
}

export interface RedisProbeOptions {
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  signal?: AbortSignal;
  secrets?: readonly string[];
}

/** Connects to `redisUrl`, runs `fn` with the client, and always closes the client. */
export async function withRedis<T>(
  redisUrl: string,
  fn: (client: Redis, target: RedisTarget) => Promise<T>,
  options: RedisProbeOptions = {},
): Promise<ProbeOutcome<T>> {
  let target: RedisTarget;
  try {
    target = parseRedisUrl(redisUrl);
  } catch (err) {
    return {
      ok: false,
      phase: 'connect',
      target: '<unparseable Redis URL>',
      message: (err as Error).message,
    };
  }
  const secrets = [...(options.secrets ?? []), redisUrl, ...(target.password ? [target.password] : [])];
  const scrub = (err: unknown) => redactText(String((err as Error)?.message ?? err), secrets);
  const client = new Redis({
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    db: target.db,
    tls: target.tls ? {} : undefined,
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    commandTimeout: options.commandTimeoutMs ?? 10_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: false,
    connectionName: 'guardia-diagnose',
  });
  let lastError: unknown;
  client.on('error', (err) => {
    lastError = err;
  });
  const onAbort = () => client.disconnect();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      if (options.signal?.aborted) throw new Error('aborted before connecting');
      await client.connect();
    } catch (err) {
      const e = (lastError ?? err) as { code?: string };
      return {
        ok: false,
        phase: 'connect',
        target: target.display,
        message: scrub(lastError ?? err),
        code: e.code,
      };
    }
    try {
      return { ok: true, value: await fn(client, target) };
    } catch (err) {
      return {
        ok: false,
        phase: 'query',
        target: target.display,
        message: scrub(err),
        code: (err as { code?: string }).code,
      };
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await closeQuietly(client);
  }
}

/** What the PING worker runs: a bare RESP connection (AUTH when the URL has a password, then PINGs) on its own
 *  thread and event loop, so the round trips it times are not stretched by whatever else this process is doing —
 *  the other checks run concurrently, and a check's JSON parsing would otherwise land inside a PING's timing.
 *  Plain CommonJS with built-in modules only: the thread starts in tens of milliseconds. */
const PING_WORKER = `
const { parentPort, workerData: w } = require('node:worker_threads');
const net = require('node:net');
const tls = require('node:tls');
let finished = false;
let connected = false;
let waiter = null;
let buf = '';
let timer = null;
const opts = { host: w.host, port: w.port };
const sock = w.tls ? tls.connect({ ...opts, servername: net.isIP(w.host) ? undefined : w.host }) : net.connect(opts);
function done(msg) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  parentPort.postMessage(msg);
  if (connected && msg.ok) sock.end('*1\\r\\n$4\\r\\nQUIT\\r\\n');
  else sock.destroy();
  setTimeout(() => sock.destroy(), 1000).unref();
}
function encode(args) {
  return '*' + args.length + '\\r\\n' + args.map((a) => '$' + Buffer.byteLength(a) + '\\r\\n' + a + '\\r\\n').join('');
}
function cmd(args) {
  return new Promise((resolve) => {
    waiter = resolve;
    clearTimeout(timer);
    timer = setTimeout(() => done({ ok: false, phase: 'query', message: args[0] + ' timed out after ' + w.commandTimeout + ' ms' }), w.commandTimeout);
    sock.write(encode(args));
  });
}
timer = setTimeout(() => done({ ok: false, phase: 'connect', message: 'connect timed out after ' + w.connectTimeout + ' ms' }), w.connectTimeout);
sock.setNoDelay(true);
sock.on('error', (e) => done({ ok: false, phase: connected ? 'query' : 'connect', message: e.message, code: e.code }));
sock.on('close', () => done({ ok: false, phase: connected ? 'query' : 'connect', message: 'connection closed by the server' }));
sock.on('data', (d) => {
  buf += d.toString('latin1');
  let i;
  while (waiter && (i = buf.indexOf('\\r\\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 2);
    const f = waiter;
    waiter = null;
    f(line);
  }
});
sock.once(w.tls ? 'secureConnect' : 'connect', async () => {
  connected = true;
  clearTimeout(timer);
  if (w.password) {
    const r = await cmd(w.username ? ['AUTH', w.username, w.password] : ['AUTH', w.password]);
    if (r.startsWith('-')) return done({ ok: false, phase: 'connect', message: r.slice(1) });
  }
  for (let i = 0; i < w.warmup; i++) {
    const r = await cmd(['PING']);
    if (r.startsWith('-')) return done({ ok: false, phase: 'query', message: r.slice(1) });
  }
  const samples = [];
  for (let i = 0; i < w.count; i++) {
    const t0 = process.hrtime.bigint();
    const r = await cmd(['PING']);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.startsWith('-')) return done({ ok: false, phase: 'query', message: r.slice(1) });
  }
  done({ ok: true, samples });
});
`;

/** Times `count` PINGs (after `warmup` untimed ones) from a dedicated worker thread; samples in ms. */
export async function measurePings(
  redisUrl: string,
  count: number,
  options: RedisProbeOptions & { warmup?: number; timeoutMs?: number } = {},
): Promise<ProbeOutcome<number[]>> {
  let target: RedisTarget;
  try {
    target = parseRedisUrl(redisUrl);
  } catch (err) {
    return {
      ok: false,
      phase: 'connect',
      target: '<unparseable Redis URL>',
      message: (err as Error).message,
    };
  }
  const secrets = [...(options.secrets ?? []), redisUrl, ...(target.password ? [target.password] : [])];
  const worker = new Worker(PING_WORKER, {
    eval: true,
    // Plain CommonJS: no need for the parent's loaders (tsx, vitest), which would slow the thread's start-up.
    execArgv: [],
    workerData: {
      host: target.host,
      port: target.port,
      username: target.username ?? null,
      password: target.password ?? null,
      tls: target.tls,
      count,
      warmup: options.warmup ?? 3,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      commandTimeout: options.commandTimeoutMs ?? 10_000,
    },
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  type Reply =
    | { ok: true; samples: number[] }
    | { ok: false; phase: 'connect' | 'query'; message: string; code?: string };
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => void worker.terminate();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const reply = await new Promise<Reply>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, phase: 'query', message: 'PING measurement timed out' }),
        options.timeoutMs ?? 30_000,
      );
      worker.once('message', (m: Reply) => resolve(m));
      worker.once('error', (err) => resolve({ ok: false, phase: 'query', message: err.message }));
      worker.once('exit', (code) =>
        resolve({ ok: false, phase: 'query', message: `PING worker exited (${code})` }),
      );
    });
    if (reply.ok) return { ok: true, value: reply.samples };
    return {
      ok: false,
      phase: reply.phase,
      target: target.display,
      message: redactText(reply.message, secrets),
      code: reply.code,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    // Let the worker finish its QUIT; a stuck one is terminated.
    const grace = setTimeout(() => void worker.terminate(), 2_000);
    await exited;
    clearTimeout(grace);
  }
}

async function closeQuietly(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1_000);
      }),
    ]);
  } catch {
    // broken connection: disconnect below
  } finally {
    clearTimeout(timer);
    if ((client.status as string) !== 'end') client.disconnect();
  }
}

/** Parses an `INFO` reply into `{ field: value }` (sections merged; `# Section` lines skipped). */
export function parseInfo(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

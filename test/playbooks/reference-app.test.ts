/**
 * The reference app keeps its contract (examples/reference-app/README.md), seen from the outside with real MariaDB
 * and Redis: a healthy production configuration, then every fault switch at once (the switches are independent,
 * so one broken app shows them all), then a restart against an already migrated and seeded database.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/playbooks/redact.js';
import { ROOT, TSX_LOADER } from '../helpers/cli.js';
import { REFAPP_DIR, startReferenceApp, type ReferenceApp } from '../helpers/reference-app.js';

type LogLine = Record<string, unknown> & { msg?: string; reqId?: string; level?: number };

async function readLog(file: string): Promise<LogLine[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** The first log line matching `pred`, polling briefly (lines written after a response are not awaited). */
async function waitForLine(file: string, pred: (l: LogLine) => boolean, timeoutMs = 5_000): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = (await readLog(file)).find(pred);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no matching log line in ${file}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  cookies: string[];
}

async function call(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body, cookies: res.headers.getSetCookie() };
}

const query = (proc: string, input: unknown) =>
  `/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify(input))}`;
const login = (app: ReferenceApp, base: string, headers: Record<string, string> = {}, who = app.login) =>
  call(base, '/api/trpc/auth.login', { body: who, headers });
/** `session=<value>` from a Set-Cookie header, for the Cookie request header. */
const cookiePair = (setCookie: string) => setCookie.split(';')[0]!;

async function sql<T = mysql.RowDataPacket[]>(
  app: ReferenceApp,
  text: string,
  params: unknown[] = [],
): Promise<T> {
  const conn = await mysql.createConnection(app.mysqlDsn);
  try {
    const [rows] = await conn.query(text, params);
    return rows as T;
  } finally {
    await conn.end();
  }
}

async function indexesOf(app: ReferenceApp): Promise<string[]> {
  const rows = await sql(
    app,
    `SELECT DISTINCT table_name AS t, index_name AS i FROM information_schema.statistics
      WHERE table_schema = ? AND column_name = 'tenant_id' AND seq_in_index = 1`,
    [app.database],
  );
  return rows.map((r) => `${r.t}.${r.i}`).sort();
}

async function jobCounts(app: ReferenceApp): Promise<Record<string, number>> {
  const queue = new Queue('campaigns', { connection: { url: app.redisUrl }, prefix: app.queuePrefix });
  try {
    return await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
  } finally {
    await queue.close();
  }
}

async function expectNoSecretsInLogs(app: ReferenceApp, extra: string[]): Promise<void> {
  for (const file of app.logFiles) {
    const text = await readFile(file, 'utf8');
    expect(text.length).toBeGreaterThan(0);
    for (const s of [...app.secrets, ...extra])
      expect(text.includes(s), `${file} contains a secret`).toBe(false);
  }
}

const LEADS_LIST_SQL = 'SELECT id, name FROM leads WHERE tenant_id = 1 ORDER BY created_at DESC LIMIT 50';

describe('reference app, healthy production configuration', () => {
  let app: ReferenceApp;
  const sessionValues: string[] = [];
  let startupMs = 0;

  beforeAll(async () => {
    const t0 = Date.now();
    app = await startReferenceApp();
    startupMs = Date.now() - t0;
  }, 60_000);
  afterAll(() => app?.stop());

  it('starts with the documented environment (and reports how long it took)', () => {
    console.log(`reference app (1 instance + proxy, fresh database) started in ${startupMs} ms`);
    // Reported, not asserted: ~2.5 s on an idle 2-core machine, 7-8 s when other suites load it.
    expect(startupMs).toBeGreaterThan(0);
    expect(app.env).toMatchObject({
      NODE_ENV: 'production',
      TRUST_PROXY: '1',
      COOKIE_SECURE: 'true',
      PORT: '0',
    });
    expect(app.env.JWT_SECRET).toHaveLength(48);
    expect(app.secrets).toEqual(
      expect.arrayContaining([app.env.JWT_SECRET, app.env.COOKIE_SECRET, app.login.password]),
    );
  });

  it('login through the proxy sets a Secure HttpOnly signed cookie, and auth.me accepts it', async () => {
    const res = await login(app, app.proxyUrl!);
    expect(res.status).toBe(200);
    expect(res.body.result.data.user).toMatchObject({ email: 'owner@tenant1.example', tenantId: 1 });
    expect(res.cookies).toHaveLength(1);
    const set = res.cookies[0]!;
    expect(set).toMatch(/^session=[^;]+\.[^;]+/);
    expect(set).toMatch(/; Path=\//);
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; Secure/);
    expect(set).toMatch(/; SameSite=Lax/);
    sessionValues.push(decodeURIComponent(cookiePair(set).slice('session='.length)));

    const me = await call(app.proxyUrl!, '/api/trpc/auth.me', { headers: { cookie: cookiePair(set) } });
    expect(me.status).toBe(200);
    expect(me.body.result.data).toMatchObject({ email: 'owner@tenant1.example', tenantId: 1, role: 'owner' });
    const direct = await call(app.appUrl, '/api/trpc/auth.me', { headers: { cookie: cookiePair(set) } });
    expect(direct.status).toBe(200);

    const out = await call(app.proxyUrl!, '/api/trpc/auth.logout', { body: {} });
    expect(out.status).toBe(200);
    expect(out.cookies[0]).toMatch(/^session=;/);
  });

  it('a request sent the way the proxy sends it gets the cookie; plain http gets 200 without it, and a warn line', async () => {
    const like = await login(app, app.appUrl, { 'x-forwarded-proto': 'https' });
    expect(like.status).toBe(200);
    expect(like.cookies[0]).toMatch(/; Secure/);
    sessionValues.push(decodeURIComponent(cookiePair(like.cookies[0]!).slice('session='.length)));

    const plain = await login(app, app.appUrl, { 'x-request-id': 'plain-http-login' });
    expect(plain.status).toBe(200);
    expect(plain.cookies).toEqual([]);
    const warn = await waitForLine(app.logFile, (l) => l.reqId === 'plain-http-login' && l.level === 40);
    expect(warn.msg).toMatch(/session cookie withheld/);
  });

  it('wrong passwords are 401; suspended and billing-locked tenants are 403 with their codes', async () => {
    const bad = await login(app, app.proxyUrl!, {}, { ...app.login, password: 'wrong password' });
    expect(bad.status).toBe(401);
    expect(bad.body.error.data.code).toBe('UNAUTHORIZED');
    for (const [tenant, code] of [
      [2, 'TENANT_SUSPENDED'],
      [3, 'TENANT_BILLING_LOCKED'],
    ] as const) {
      const res = await login(
        app,
        app.proxyUrl!,
        {},
        {
          email: `owner@tenant${tenant}.example`,
          password: app.login.password,
          tenantId: String(tenant),
        },
      );
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe(code);
      expect(res.body.error.data).toMatchObject({ code: 'FORBIDDEN', appCode: code, httpStatus: 403 });
      expect(res.cookies).toEqual([]);
    }
  });

  it('/healthz reports fingerprints of the secrets, never the secrets', async () => {
    const res = await call(app.appUrl, '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: true,
      instance: expect.any(String),
      fingerprints: {
        JWT_SECRET: fingerprint(app.env.JWT_SECRET!),
        COOKIE_SECRET: fingerprint(app.env.COOKIE_SECRET!),
      },
      node_env: 'production',
      trust_proxy: true,
      worker: true,
    });
  });

  it('every response carries X-Request-Id: the caller’s, echoed, or a generated UUID; logged as reqId', async () => {
    const mine = await call(app.proxyUrl!, query('leads.list', { tenantId: 1, limit: 5 }), {
      headers: { 'x-request-id': 'req-healthy-1' },
    });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('x-request-id')).toBe('req-healthy-1');
    expect(mine.body.result.data.items).toHaveLength(5);
    const line = await waitForLine(
      app.logFile,
      (l) => l.reqId === 'req-healthy-1' && l.msg === 'request completed',
    );
    expect(line).toMatchObject({
      req: { method: 'GET', url: expect.stringMatching(/^\/api\/trpc\/leads\.list\?input=/) },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    const generated = await call(app.appUrl, '/no/such/route');
    expect(generated.status).toBe(404);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('CORS allows exactly CLIENT_URL with credentials, and nothing for a foreign origin', async () => {
    const preflight = (origin: string) =>
      call(app.appUrl, '/api/trpc/auth.login', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const ok = await preflight('https://app.example.test');
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const foreign = await preflight('https://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('leads.import rejects a lead without email with 400; imports valid ones; lists read per tenant', async () => {
    const bad = await call(app.appUrl, '/api/trpc/leads.import', {
      body: { tenantId: 1, leads: [{ name: 'Sin Email' }] },
      headers: { 'x-request-id': 'import-no-email' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.data.code).toBe('BAD_REQUEST');
    const warn = await waitForLine(
      app.logFile,
      (l) => l.reqId === 'import-no-email' && l.msg === 'procedure failed',
    );
    expect(warn).toMatchObject({ level: 40, procedure: 'leads.import', code: 'BAD_REQUEST' });

    const good = await call(app.appUrl, '/api/trpc/leads.import', {
      body: { tenantId: 1, leads: [{ name: 'Nueva', email: 'Nueva@Example.com' }] },
    });
    expect(good.status).toBe(200);
    expect(good.body.result.data).toEqual({ imported: 1 });
    const chat = await call(app.appUrl, query('chat.list', { tenantId: '1' }));
    expect(chat.status).toBe(200);
    expect(chat.body.result.data.items).toHaveLength(50);
  });

  it('applies every migration, including the tenant indexes 0040 and 0041, and seeds enough rows to matter', async () => {
    const versions = (await sql(app, 'SELECT version FROM schema_migrations ORDER BY version')).map(
      (r) => r.version,
    );
    expect(versions).toEqual(['0001', '0002', '0003', '0004', '0040', '0041']);
    expect(await indexesOf(app)).toEqual([
      'campaign_sends.idx_campaign_sends_tenant',
      'campaigns.idx_campaigns_tenant',
      'chat_messages.idx_chat_messages_tenant',
      'chat_threads.idx_chat_threads_tenant',
      'leads.idx_leads_tenant',
      'users.idx_users_tenant',
    ]);
    const [counts] = await sql(
      app,
      `SELECT (SELECT COUNT(*) FROM leads WHERE tenant_id = 1) AS leads,
              (SELECT COUNT(*) FROM chat_messages WHERE tenant_id = 1) AS messages,
              (SELECT COUNT(*) FROM leads WHERE tenant_id <> 1) AS others`,
    );
    expect(Number(counts!.leads)).toBeGreaterThanOrEqual(5_000);
    expect(Number(counts!.messages)).toBeGreaterThanOrEqual(5_000);
    expect(Number(counts!.others)).toBeGreaterThan(0);
    const [plan] = await sql(app, `EXPLAIN ${LEADS_LIST_SQL}`);
    expect(plan!.key).toBe('idx_leads_tenant');
  });

  it('campaigns.send enqueues on `campaigns` and the worker marks every send sent', async () => {
    const ids = (await sql(app, 'SELECT id FROM leads WHERE tenant_id = 1 ORDER BY id LIMIT 20')).map(
      (r) => r.id,
    );
    const sent = await call(app.appUrl, '/api/trpc/campaigns.send', { body: { tenantId: 1, leadIds: ids } });
    expect(sent.status).toBe(200);
    const { campaignId, queued } = sent.body.result.data;
    expect(queued).toBe(20);
    const deadline = Date.now() + 15_000;
    let status: Reply;
    do {
      await new Promise((r) => setTimeout(r, 100));
      status = await call(app.appUrl, query('campaigns.status', { tenantId: 1, campaignId }));
    } while (status.body.result.data.sent < 20 && Date.now() < deadline);
    expect(status.body.result.data).toMatchObject({ status: 'sent', sent: 20, queued: 0 });
    expect(await jobCounts(app)).toMatchObject({ waiting: 0, failed: 0 });
  });

  it('a restart against the migrated, seeded database changes nothing and stops cleanly on SIGTERM', async () => {
    const before = await sql(
      app,
      'SELECT (SELECT COUNT(*) FROM leads) AS l, (SELECT COUNT(*) FROM users) AS u',
    );
    const child = spawn(process.execPath, ['--import', TSX_LOADER, `${REFAPP_DIR}/src/main.ts`], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...app.env, LOG_FILE: `${app.logFile}.restart` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /"msg":"listening","url":"([^"]+)"/.exec(out);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`restart exited ${code}: ${stderr}`)));
    });
    expect((await call(url, '/healthz')).status).toBe(200);
    const after = await sql(
      app,
      'SELECT (SELECT COUNT(*) FROM leads) AS l, (SELECT COUNT(*) FROM users) AS u',
    );
    expect(after).toEqual(before);
    const restartLog = await readLog(`${app.logFile}.restart`);
    expect(restartLog.some((l) => l.msg === 'migration applied' || l.msg === 'database seeded')).toBe(false);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('logs no secret, session cookie or token', async () => {
    expect(sessionValues.length).toBeGreaterThan(0);
    await expectNoSecretsInLogs(app, [
      ...sessionValues,
      ...sessionValues.map((v) => v.split('.').slice(0, 3).join('.')),
    ]);
  });
});

describe('reference app, every fault switch on', () => {
  let app: ReferenceApp;
  const otherJwt = 'instance-one-jwt-secret-0123456789abcdefghijklmn';
  const otherCookie = 'instance-one-cookie-secret-0123456789abcdefghij';
  const sessionValues: string[] = [];

  beforeAll(async () => {
    app = await startReferenceApp({
      env: {
        TRUST_PROXY: undefined,
        FAULT_CORS_ANY_ORIGIN: '1',
        FAULT_SKIP_MIGRATIONS: '0041',
        FAULT_DROP_INDEX: 'leads.idx_leads_tenant',
        FAULT_THROWING_PROCEDURE: '1',
        FAULT_STALLED_QUEUE: '1',
      },
      instances: 2,
      instanceEnv: [
        {},
        { JWT_SECRET: otherJwt, COOKIE_SECRET: otherCookie, COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'false' },
      ],
      privateRedis: { maxmemoryPolicy: 'allkeys-lru' },
    });
  }, 60_000);
  afterAll(() => app?.stop());

  it('TRUST_PROXY unset: login through the proxy answers 200 without Set-Cookie, and says why in the log', async () => {
    expect(app.env.TRUST_PROXY).toBeUndefined();
    const res = await login(app, app.proxyUrl!, { 'x-request-id': 'login-no-trust' });
    expect(res.status).toBe(200);
    expect(res.cookies).toEqual([]);
    const warn = await waitForLine(app.logFile, (l) => l.reqId === 'login-no-trust' && l.level === 40);
    expect(warn).toMatchObject({ protocol: 'http', trustProxy: false });
    expect((await call(app.appUrl, '/healthz')).body.trust_proxy).toBe(false);
  });

  it('COOKIE_SAMESITE=none with COOKIE_SECURE=false: the cookie is SameSite=None without Secure', async () => {
    const res = await login(app, app.urls[1]!);
    expect(res.status).toBe(200);
    const set = res.cookies[0]!;
    expect(set).toMatch(/; SameSite=None/);
    expect(set).not.toMatch(/Secure/);
    sessionValues.push(decodeURIComponent(cookiePair(set).slice('session='.length)));
  });

  it('instances with different secrets: the other refuses the session (401) and logs the bad signature', async () => {
    const [h0, h1] = await Promise.all(app.urls.map((u) => call(u, '/healthz')));
    expect(h0!.body.fingerprints.JWT_SECRET).not.toBe(h1!.body.fingerprints.JWT_SECRET);
    expect(h1!.body.fingerprints).toEqual({
      JWT_SECRET: fingerprint(otherJwt),
      COOKIE_SECRET: fingerprint(otherCookie),
    });
    expect(app.secrets).toEqual(expect.arrayContaining([otherJwt, otherCookie]));

    const res = await login(app, app.urls[1]!);
    const cookie = cookiePair(res.cookies[0]!);
    expect((await call(app.urls[1]!, '/api/trpc/auth.me', { headers: { cookie } })).status).toBe(200);
    const refused = await call(app.appUrl, '/api/trpc/auth.me', {
      headers: { cookie, 'x-request-id': 'cross-1' },
    });
    expect(refused.status).toBe(401);
    expect(refused.body.error.data.code).toBe('UNAUTHORIZED');
    const line = await waitForLine(
      app.logFile,
      (l) => l.reqId === 'cross-1' && l.msg === 'invalid session signature',
    );
    expect(line.level).toBe(40);
  });

  it('FAULT_CORS_ANY_ORIGIN=1: any Origin is echoed with credentials', async () => {
    const res = await call(app.appUrl, '/api/trpc/auth.login', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://evil.example');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('skipped 0041 and the dropped leads index show in schema_migrations, information_schema and EXPLAIN', async () => {
    const versions = (await sql(app, 'SELECT version FROM schema_migrations ORDER BY version')).map(
      (r) => r.version,
    );
    expect(versions).toEqual(['0001', '0002', '0003', '0004', '0040']);
    expect(await indexesOf(app)).toEqual([
      'campaign_sends.idx_campaign_sends_tenant',
      'campaigns.idx_campaigns_tenant',
      'users.idx_users_tenant',
    ]);
    const [plan] = await sql(app, `EXPLAIN ${LEADS_LIST_SQL}`);
    expect(plan).toMatchObject({ type: 'ALL', key: null });
    expect(Number(plan!.rows)).toBeGreaterThan(1_000);
  });

  it('FAULT_THROWING_PROCEDURE=1: a lead without email is a 500 whose log line has the request id and the stack', async () => {
    const res = await call(app.proxyUrl!, '/api/trpc/leads.import', {
      body: { tenantId: 1, leads: [{ name: 'Con', email: 'con@example.com' }, { name: 'Sin email' }] },
      headers: { 'x-request-id': 'boom-1' },
    });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('boom-1');
    expect(res.body.error.data.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(res.body)).not.toMatch(/at normalizeEmail/); // no stack to the client in production
    const line = await waitForLine(app.logFile, (l) => l.reqId === 'boom-1' && l.msg === 'procedure failed');
    expect(line).toMatchObject({
      level: 50,
      procedure: 'leads.import',
      path: '/api/trpc/leads.import',
      code: 'INTERNAL_SERVER_ERROR',
      err: { type: 'TypeError', message: expect.stringMatching(/undefined/) },
      input: { tenantId: 1, leads: { length: 2, missing: { email: 1 } } },
    });
    expect((line.err as { stack: string }).stack).toMatch(
      /^TypeError: [\s\S]*normalizeEmail[\s\S]*routers\.ts/,
    );
    expect(JSON.stringify(line.input)).not.toMatch(/con@example\.com|Sin email/);
    const done = await waitForLine(app.logFile, (l) => l.reqId === 'boom-1' && l.msg === 'request completed');
    expect(done).toMatchObject({
      req: { method: 'POST', url: '/api/trpc/leads.import' },
      res: { statusCode: 500 },
    });
  });

  it('the private Redis runs with maxmemory-policy allkeys-lru', async () => {
    expect(app.redisUrl).not.toBe('redis://127.0.0.1:6379/0');
    const redis = new Redis(app.redisUrl);
    try {
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    } finally {
      redis.disconnect();
    }
  });

  it('FAULT_STALLED_QUEUE=1: campaign jobs stay waiting', async () => {
    const ids = (await sql(app, 'SELECT id FROM leads WHERE tenant_id = 1 ORDER BY id LIMIT 7')).map(
      (r) => r.id,
    );
    const res = await call(app.appUrl, '/api/trpc/campaigns.send', { body: { tenantId: 1, leadIds: ids } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await jobCounts(app)).toMatchObject({ waiting: 7, active: 0, completed: 0 });
    const status = await call(
      app.appUrl,
      query('campaigns.status', { tenantId: 1, campaignId: res.body.result.data.campaignId }),
    );
    expect(status.body.result.data).toMatchObject({ status: 'sending', queued: 7, sent: 0 });
    expect((await call(app.appUrl, '/healthz')).body.worker).toBe(false);
  });

  it('logs no secret, session cookie or token', async () => {
    await expectNoSecretsInLogs(app, sessionValues);
  });
});

/**
 * No secret escapes. Every integration secret, the Slack signing secret, the Slack webhook URL (its path is the
 * credential), an SMTP URL with a password, the link-signing key, GITHUB_TOKEN and every API token are set to
 * distinctive values; a representative flow runs with logging at trace level: alerts through every integration
 * (bearer, ?token=, Basic, HMAC signatures, the PagerDuty routing key), failed authentication (wrong tokens, one
 * integration's real secret sent to another), notifications through Slack (failing, then working) and email
 * (authenticated SMTP), the acknowledge link, gate, override and evidence calls. Then no secret may appear in any
 * captured log line, any API response, or any row of any table of the store (timelines included). The CLI gets the
 * same check: `tokens create` prints its token once, `tokens list` never, and `serve` (banner and JSON logs at
 * trace) prints none while serving requests that carry secrets.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { closeEmailTransports } from '../../src/notify/email.js';
import { slackSignature } from '../../src/notify/slack-interactivity.js';
import { createLogger } from '../../src/server/logger.js';
import { startTestApp, type TestApp } from '../helpers/harness.js';
import { startHttpSink, type HttpSink } from '../helpers/sinks.js';
import { fixture, hmacHex } from './fuzz-kit.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const SMTP_USER = 'guardia-mailer';
const SMTP_PASSWORD = 'Smtp-P4ss/w0rd+Zq9!';
const SECRETS: Record<string, string> = {
  SENTRY_CLIENT_SECRET: 'SCAN-sentry-client-secret-Q1w2',
  SENTRY_LEGACY_TOKEN: 'SCAN-sentry-legacy-token-E3r4',
  UPTIME_KUMA_TOKEN: 'SCAN-uptime-kuma-token-T5y6',
  UPTIMEROBOT_TOKEN: 'SCAN-uptimerobot-token-U7i8',
  BETTERSTACK_TOKEN: 'SCAN-betterstack-token-O9p0',
  GITHUB_WEBHOOK_SECRET: 'SCAN-github-webhook-secret-A1s2',
  ALERTMANAGER_TOKEN: 'SCAN-alertmanager-token-D3f4',
  GRAFANA_WEBHOOK_SECRET: 'SCAN-grafana-webhook-secret-G5h6',
  GENERIC_TOKEN: 'SCAN-generic-token-J7k8',
  PAGERDUTY_ROUTING_KEY: 'SCANR0UT1NGKEYL9z0x1c2v3b4n5m6qq',
  SLACK_SIGNING_SECRET: 'SCAN-slack-signing-secret-W8e9',
  GITHUB_TOKEN: 'ghs_SCANgithubInstallationToken0123',
};
const SLACK_PATH = '/services/TSCAN0001/BSCAN0002/SlackHookPathSecret0003';

/** Each secret as it could leak: raw, URL-encoded and base64. */
function forms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])];
}

function leaks(haystacks: { where: string; text: string }[], secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(secrets))
    for (const form of forms(secret))
      for (const h of haystacks) {
        const at = h.text.indexOf(form);
        if (at >= 0)
          found.push(`${name} in ${h.where}: …${h.text.slice(Math.max(0, at - 80), at + form.length + 20)}…`);
      }
  return found;
}

describe('secrets never appear in logs, API answers or the store', () => {
  let t: TestApp;
  let slack: HttpSink;
  let smtp: SMTPServer;
  let smtpUrl: string;
  const mails: string[] = [];
  const logLines: string[] = [];
  const responses: { where: string; text: string }[] = [];
  const apiTokens: Record<string, string> = {};

  beforeAll(async () => {
    slack = await startHttpSink();
    smtp = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD)
          return callback(null, { user: SMTP_USER });
        return callback(new Error('Invalid username or password'));
      },
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push(Buffer.concat(chunks).toString('utf8'));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    smtpUrl = `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:${port}`;
    const logStream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    t = await startTestApp('sqlite', {
      env: { ...SECRETS, SLACK_WEBHOOK_URL: `${slack.url}${SLACK_PATH}`, SMTP_URL: smtpUrl },
      logStream,
      logLevel: 'trace',
    });
    Object.assign(apiTokens, t.tokens);
    apiTokens.extra = (await t.services.tokens.create('ci-bot', 'responder')).token;
  });
  afterAll(async () => {
    await t.close();
    await slack.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    closeEmailTransports();
  });

  /** Injects and keeps the answer (status line, headers and body) for the scan. */
  async function call(opts: InjectOptions) {
    const res = await t.app.inject(opts);
    responses.push({
      where: `${opts.method} ${String(opts.url).split('?')[0]}`,
      text: `${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`,
    });
    return res;
  }
  const json = { 'content-type': 'application/json' };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('runs the flow: every integration, failed authentication, notifications, the ack link, gate and evidence', async () => {
    const ts = String(Math.floor(t.clock.now().getTime() / 1000));
    const accepted = async (res: { statusCode: number; body: string }) =>
      expect(res.statusCode, res.body).toBe(202);
    const body = (name: string) => JSON.stringify(fixture(name).body);

    // Token integrations: header, query string, Basic auth.
    await accepted(
      await call({
        method: 'POST',
        url: '/hooks/generic',
        headers: { ...json, ...bearer(SECRETS.GENERIC_TOKEN!) },
        payload: { title: 'Checkout down', severity: 'sev1', dedup_key: 'scan-1' },
      }),
    );
    await accepted(
      await call({
        method: 'POST',
        url: `/hooks/sentry-legacy?token=${encodeURIComponent(SECRETS.SENTRY_LEGACY_TOKEN!)}`,
        headers: json,
        payload: body('sentry-legacy-webhooks-plugin.json'),
      }),
    );
    await accepted(
      await call({
        method: 'POST',
        url: '/hooks/uptime-kuma',
        headers: { ...json, ...bearer(SECRETS.UPTIME_KUMA_TOKEN!) },
        payload: body('uptime-kuma-down.json'),
      }),
    );
    await accepted(
      await call({
        method: 'POST',
        url: `/hooks/uptimerobot?token=${SECRETS.UPTIMEROBOT_TOKEN}`,
        headers: json,
        payload: body('uptimerobot-down.json'),
      }),
    );
    await accepted(
      await call({
        method: 'POST',
        url: '/hooks/betterstack',
        headers: { ...json, ...bearer(SECRETS.BETTERSTACK_TOKEN!) },
        payload: body('betterstack-incident-started.json'),
      }),
    );
    await accepted(
      await call({
        method: 'POST',
        url: '/hooks/alertmanager',
        headers: {
          ...json,
          authorization: `Basic ${Buffer.from(`am:${SECRETS.ALERTMANAGER_TOKEN}`).toString('base64')}`,
        },
        payload: body('alertmanager-firing.json'),
      }),
    );
    // Signed integrations.
    const sentry = body('sentry-issue-created.json');
    await accepted(
      await call({
        method: 'POST',
        url: '/hooks/sentry',
        headers: {
          ...json,
          'sentry-hook-resource': 'issue',
          'sentry-hook-signature': hmacHex(SECRETS.SENTRY_CLIENT_SECRET!, sentry),
        },
        payload: sentry,
      }),
    );
    const github = body('github-workflow-run-completed.json');
    await accepted(
      await call({
        method: 'POST',
        url: '/hooks/github',
        headers: {
          ...json,
          'x-github-event': 'workflow_run',
          'x-github-delivery': 'scan-1',
          'x-hub-signature-256': `sha256=${hmacHex(SECRETS.GITHUB_WEBHOOK_SECRET!, github)}`,
        },
        payload: github,
      }),
    );
    const grafana = body('grafana-firing.json');
    await accepted(
      await call({
        method: 'POST',
        url: '/hooks/grafana',
        headers: {
          ...json,
          'x-grafana-alerting-signature-timestamp': ts,
          'x-grafana-alerting-signature': hmacHex(SECRETS.GRAFANA_WEBHOOK_SECRET!, `${ts}:`, grafana),
        },
        payload: grafana,
      }),
    );
    const pd = {
      routing_key: SECRETS.PAGERDUTY_ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'scan-pd',
      payload: { summary: 'Disk full', source: 'db-1', severity: 'critical' },
    };
    await accepted(await call({ method: 'POST', url: '/v2/enqueue', headers: json, payload: pd }));
    await accepted(
      await call({
        method: 'POST',
        url: '/hooks/pagerduty',
        headers: json,
        payload: { ...pd, dedup_key: 'scan-pd-2' },
      }),
    );

    // Failed authentication: wrong tokens, and one integration's real secret sent to another door.
    for (const token of ['gdn_not-a-token', apiTokens.viewer!.slice(0, -2) + 'xx'])
      expect(
        (await call({ method: 'GET', url: '/api/v1/incidents', headers: bearer(token) })).statusCode,
      ).toBe(401);
    expect(
      (
        await call({
          method: 'POST',
          url: '/hooks/alertmanager',
          headers: { ...json, ...bearer(SECRETS.GENERIC_TOKEN!) },
          payload: body('alertmanager-firing.json'),
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await call({
          method: 'POST',
          url: `/hooks/generic?token=${SECRETS.BETTERSTACK_TOKEN}`,
          headers: json,
          payload: { title: 'x' },
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await call({
          method: 'POST',
          url: '/v2/enqueue',
          headers: json,
          payload: { ...pd, routing_key: SECRETS.GENERIC_TOKEN },
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await call({
          method: 'POST',
          url: '/hooks/sentry',
          headers: {
            ...json,
            'sentry-hook-resource': 'issue',
            'sentry-hook-signature': hmacHex(SECRETS.GITHUB_WEBHOOK_SECRET!, sentry),
          },
          payload: sentry,
        })
      ).statusCode,
    ).toBe(401);
    const slackBody = 'payload=%7B%7D';
    expect(
      (
        await call({
          method: 'POST',
          url: '/hooks/slack/interactions',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-slack-request-timestamp': ts,
            'x-slack-signature': slackSignature(SECRETS.GENERIC_TOKEN!, ts, slackBody),
          },
          payload: slackBody,
        })
      ).statusCode,
    ).toBe(401);

    // Notifications: Slack fails once (500), then works; a sev1 page falls over to email when Slack refuses (404).
    let slackCalls = 0;
    slack.respond = () =>
      ++slackCalls === 1 ? { status: 500, body: 'internal_error' } : { status: 200, body: 'ok' };
    const engineLog = createLogger(
      'trace',
      new Writable({
        write(c: Buffer, _e, d) {
          logLines.push(c.toString('utf8'));
          d();
        },
      }),
    );
    const engine = new Engine(t.services, {
      random: () => 0.5,
      onError: (err) => engineLog.error({ err }, 'escalation engine cycle failed'),
    });
    try {
      await engine.runDue();
      t.clock.advance(30_000);
      await engine.runDue();
      slack.respond = () => ({ status: 404, body: 'no_service' });
      const declared = await call({
        method: 'POST',
        url: '/api/v1/incidents',
        headers: { ...json, ...bearer(apiTokens.responder!) },
        payload: { title: 'Payments down', severity: 'sev1' },
      });
      expect(declared.statusCode).toBe(201);
      await engine.runDue();
      t.clock.advance(30_000);
      await engine.runDue();
    } finally {
      await engine.stop();
    }
    expect(slack.requests.length).toBeGreaterThan(1);
    expect(mails.length, 'the page fell over to authenticated SMTP').toBeGreaterThan(0);

    // The acknowledge link from the email, as a browser would use it.
    const link = /http:\/\/127\.0\.0\.1:8080(\/ack\/[A-Za-z0-9_.-]+)/.exec(mails[0]!.replace(/=\r\n/g, ''));
    expect(link).not.toBeNull();
    apiTokens.ack_link = link![1]!.slice('/ack/'.length);
    expect((await call({ method: 'GET', url: link![1]! })).statusCode).toBe(200);
    expect(
      (
        await call({
          method: 'POST',
          url: link![1]!,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: '',
        })
      ).statusCode,
    ).toBe(200);

    // Gate, overrides, evidence, on-call, incidents.
    for (const url of [
      '/api/v1/gate',
      '/api/v1/gate/overrides',
      '/api/v1/evidence',
      '/api/v1/oncall',
      '/api/v1/oncall/simulate?severity=sev1',
      '/api/v1/incidents?status=all',
    ])
      expect((await call({ method: 'GET', url, headers: bearer(apiTokens.admin!) })).statusCode, url).toBe(
        200,
      );
    expect(
      (
        await call({
          method: 'POST',
          url: '/api/v1/gate/overrides',
          headers: { ...json, ...bearer(apiTokens.responder!) },
          payload: { reason: 'hotfix', approver: 'Jane Doe', expires_in: '1h' },
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await call({
          method: 'POST',
          url: '/api/v1/evidence',
          headers: { ...json, ...bearer(apiTokens.extra!) },
          payload: {
            requirement_id: 'access-review',
            status: 'success',
            summary: '14 accounts',
            links: [{ href: 'https://example.com/review' }],
          },
        })
      ).statusCode,
    ).toBe(201);
    for (let id = 1; id <= 12; id++)
      await call({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(apiTokens.viewer!) });
  });

  it('no secret in any log line, API answer or stored row', async () => {
    expect(logLines.length).toBeGreaterThan(30);
    expect(logLines.some((l) => l.includes('"msg":"request refused"'))).toBe(true);
    const tables = (
      await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(
        t.services.store.db,
      )
    ).rows.map((r) => r.name);
    expect(tables).toContain('incident_events');
    const rows: { where: string; text: string }[] = [];
    for (const table of tables) {
      const result = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
        t.services.store.db,
      );
      rows.push({ where: `table ${table}`, text: JSON.stringify(result.rows) });
    }
    const timeline = rows.find((r) => r.where === 'table incident_events')!;
    expect(timeline.text.length).toBeGreaterThan(1000);

    const all: Record<string, string> = {
      ...SECRETS,
      SMTP_PASSWORD,
      SMTP_URL: smtpUrl,
      SLACK_WEBHOOK_PATH: SLACK_PATH,
      GUARDIA_SECRET_KEY: t.services.settings.secretKey,
      ...Object.fromEntries(Object.entries(apiTokens).map(([k, v]) => [`api token ${k}`, v])),
    };
    const found = leaks(
      [...logLines.map((l, i) => ({ where: `log line ${i + 1}`, text: l })), ...responses, ...rows],
      all,
    );
    console.log(
      `secret scan: ${Object.keys(all).length} secrets (× raw, URL-encoded, base64) against ${logLines.length} log lines, ${responses.length} API answers and ${tables.length} tables: ${found.length} found`,
    );
    expect(found).toEqual([]);
  });
});

/** Runs the CLI on a store; resolves with its output. */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`guardia ${args.join(' ')} timed out:\n${out}`));
    }, 60_000);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('the CLI prints no secret (tokens list, serve banner and logs)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-secret-scan-'));
    env = {};
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith('GUARDIA_') && !(k in SECRETS)) env[k] = v;
    Object.assign(env, SECRETS, {
      GUARDIA_DATABASE_URL: `sqlite:${path.join(dir, 'guardia.db')}`,
      GUARDIA_DATA_DIR: path.join(dir, 'data'),
      GUARDIA_LOG_LEVEL: 'trace',
      GUARDIA_PORT: '0',
      GUARDIA_SECRET_KEY: 'SCAN-guardia-secret-key-0123456789abcdef',
      SLACK_WEBHOOK_URL: `http://127.0.0.1:9${SLACK_PATH}`,
      SMTP_URL: `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:9`,
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('tokens create prints its token once; tokens list and serve never print it or any configured secret', async () => {
    const created = await cli(
      ['tokens', 'create', '--role', 'admin', '--name', 'scan-admin', '--json'],
      env,
      dir,
    );
    expect(created.code, created.out).toBe(0);
    const token = (JSON.parse(created.out) as { token: string }).token;
    const [listed, listedJson] = await Promise.all([
      cli(['tokens', 'list'], env, dir),
      cli(['tokens', 'list', '--json'], env, dir),
    ]);
    expect(listed.out).toContain('scan-admin');

    const server = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    server.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    server.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((resolve) => server.once('close', resolve));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000);
        server.stderr.on('data', () => {
          const m = /Guardia is serving on (http:\/\/\S+:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const post = (url: string, headers: Record<string, string>, body: unknown) =>
        fetch(`${base}${url}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
      expect(
        (await post(`/hooks/generic?token=${SECRETS.GENERIC_TOKEN}`, {}, { title: 'From CLI scan' })).status,
      ).toBe(202);
      expect(
        (await post('/hooks/uptime-kuma', { authorization: `Bearer ${SECRETS.GENERIC_TOKEN}` }, {})).status,
      ).toBe(401);
      expect(
        (await fetch(`${base}/api/v1/incidents`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      expect(
        (
          await fetch(`${base}/api/v1/incidents?token=${token}`, {
            headers: { authorization: `Bearer ${token}x` },
          })
        ).status,
      ).toBe(401);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
    expect(out).toContain('Guardia is serving on');
    expect(out).toContain('"msg":"request"');

    const found = leaks(
      [
        { where: 'tokens list', text: listed.out },
        { where: 'tokens list --json', text: listedJson.out },
        { where: 'serve (banner and logs)', text: out },
      ],
      {
        ...SECRETS,
        SMTP_PASSWORD,
        SLACK_WEBHOOK_PATH: SLACK_PATH,
        GUARDIA_SECRET_KEY: env.GUARDIA_SECRET_KEY!,
        'created token': token,
      },
    );
    expect(found).toEqual([]);
    // The one place a token is shown: the output of its creation.
    expect(created.out).toContain(token);
  }, 120_000);
});

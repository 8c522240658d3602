/**
 * `diagnose errors` against the real reference app with FAULT_THROWING_PROCEDURE=1: a bad import answers 500 and
 * the playbook names `/api/trpc/leads.import`, shows the stack and the payload's shape (no value), finds the Sentry
 * event (stand-in) by request id, and ranks leads.import first. No secret and no payload value reaches a finding.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_TARGETS,
  type CheckContext,
  type PlaybookReport,
  type PlaybookReportJson,
  type RunOptions,
} from '../../src/playbooks/check.js';
import { runPlaybook } from '../../src/playbooks/runner.js';
import { cleanEnv, killAllGuardia, runGuardia } from '../helpers/cli.js';
import { startReferenceApp, type ReferenceApp } from '../helpers/reference-app.js';
import { startSentryStandIn, type SentryStandIn } from '../helpers/sentry-standin.js';

let app: ReferenceApp;
let sentry: SentryStandIn;
const PII = ['ana@example.com', 'Bob Secretname', '+34 600 111 222', 'Ana Visible'];

async function post(path: string, body: unknown, requestId: string): Promise<number> {
  const res = await fetch(`${app.appUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

beforeAll(async () => {
  app = await startReferenceApp({ env: { FAULT_THROWING_PROCEDURE: '1' }, proxy: false });
  sentry = await startSentryStandIn({
    events: [
      {
        id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
        title: "TypeError: Cannot read properties of undefined (reading 'trim')",
        timestamp: new Date().toISOString(),
        project: 'refapp',
        issue: 'REFAPP-7',
        culprit: 'normalizeEmail(routers)',
        'error.type': ['TypeError'],
        'error.value': ["Cannot read properties of undefined (reading 'trim')"],
        transaction: '/api/trpc/leads.import',
        environment: 'production',
        tags: { request_id: 'req-import-2' },
      },
    ],
  });
  for (let i = 1; i <= 3; i++) {
    const res = await fetch(
      `${app.appUrl}/api/trpc/leads.list?input=${encodeURIComponent('{"tenantId":1,"limit":5}')}`,
      {
        headers: { 'x-request-id': `ok-${i}` },
      },
    );
    expect(res.status).toBe(200);
    await res.text();
  }
  expect(
    await post(
      '/api/trpc/leads.import',
      { tenantId: 1, leads: [{ name: 'Cy', email: 'cy@example.org' }] },
      'ok-import',
    ),
  ).toBe(200);
  for (let i = 1; i <= 3; i++)
    expect(
      await post(
        '/api/trpc/leads.import',
        {
          tenantId: 1,
          leads: [
            { name: 'Ana Visible', email: 'ana@example.com' },
            { name: 'Bob Secretname', phone: '+34 600 111 222' },
          ],
        },
        `req-import-${i}`,
      ),
    ).toBe(500);
});
afterAll(async () => {
  killAllGuardia();
  await sentry?.close();
  await app?.stop();
});

function contextFor(
  options: RunOptions,
  sentryTarget: CheckContext['targets']['sentry'] | null = null,
): CheckContext {
  return {
    targets: {
      ...DEFAULT_TARGETS,
      appUrl: app.appUrl,
      envFile: app.envFile,
      logFile: app.logFile,
      sentry: sentryTarget ?? { apiUrl: sentry.url, org: sentry.org, token: sentry.token },
    },
    options,
    now: () => new Date(),
    secrets: [],
  };
}

async function diagnose(options: RunOptions, sentryTarget?: CheckContext['targets']['sentry'] | null) {
  const report = await runPlaybook('errors', contextFor(options, sentryTarget), { timeoutMs: 10_000 });
  expect(report.findings.map((f) => f.id).sort()).toEqual([
    'errors.by_procedure',
    'errors.request',
    'errors.sentry',
  ]);
  const text = JSON.stringify(report);
  for (const s of [...app.secrets, app.login.password, sentry.token, ...PII])
    expect(text.includes(s), s).toBe(false);
  return report;
}

const finding = (r: PlaybookReport | PlaybookReportJson, id: string) =>
  (r.findings as Omit<PlaybookReport['findings'][number], 'durationMs'>[]).find((f) => f.id === id)!;
const failing = (r: PlaybookReport) =>
  r.findings
    .filter((f) => f.status === 'fail')
    .map((f) => f.id)
    .sort();

describe('diagnose errors --request-id', () => {
  it('names the procedure, the status, the stack and the payload shape, and finds the Sentry event', async () => {
    const report = await diagnose({ requestId: 'req-import-2' });
    expect(failing(report)).toEqual(['errors.by_procedure', 'errors.request']);
    const req = finding(report, 'errors.request');
    expect(req.summary.en).toMatch(
      /^POST \/api\/trpc\/leads\.import answered 500 for request req-import-2: TypeError: .*; leads\[\]: 1 of 2 items lack email$/,
    );
    expect(req.mitigation?.es).toBe(
      'Aplicar hotfix mínimo y seguro en el procedimiento afectado; si no hay fix inmediato: feature flag/rollback del módulo; documentar RCA con causa raíz + acción preventiva.',
    );
    expect(req.evidence).toMatchObject({
      request_id: 'req-import-2',
      procedure: '/api/trpc/leads.import',
      method: 'POST',
      status: 500,
      trpc_code: 'INTERNAL_SERVER_ERROR',
      error: { type: 'TypeError' },
      payload: {
        tenantId: 1,
        leads: {
          length: 2,
          items: [
            { name: 'string(11)', email: 'string(15)' },
            { name: 'string(14)', phone: 'string(15)' },
          ],
          missing: { email: 1 },
        },
      },
      // Both are true (the app's shape says so); email is the one the stack is about.
      payload_hints: ['leads[]: 1 of 2 items lack email', 'leads[]: 1 of 2 items lack phone'],
    });
    const stack = req.evidence.stack as string[];
    expect(stack[0]).toMatch(/^TypeError: /);
    expect(stack.some((l) => l.includes('normalizeEmail') && l.includes('routers.ts'))).toBe(true);

    const s = finding(report, 'errors.sentry');
    expect(s.status).toBe('pass');
    expect(s.summary.en).toContain(
      "Sentry has 1 event for request req-import-2: TypeError: Cannot read properties of undefined (reading 'trim')",
    );
    expect(s.evidence).toMatchObject({
      query: 'request_id:req-import-2',
      events: [{ id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', issue: 'REFAPP-7' }],
    });
    expect(sentry.sink.requests.at(-1)?.headers.authorization).toBe(`Bearer ${sentry.token}`);
  });

  it('skips the Sentry part without a token, saying so', async () => {
    const report = await diagnose({ requestId: 'req-import-1' }, { apiUrl: sentry.url, org: sentry.org });
    const s = finding(report, 'errors.sentry');
    expect(s.status).toBe('skip');
    expect(s.summary.en).toContain('no Sentry token');
    expect(finding(report, 'errors.request').status).toBe('fail');
  });

  it('warns about a request id no log line carries', async () => {
    const report = await diagnose({ requestId: 'never-seen' });
    expect(finding(report, 'errors.request')).toMatchObject({ status: 'warn' });
    expect(finding(report, 'errors.sentry')).toMatchObject({ status: 'warn' });
  });
});

describe('diagnose errors without a request id', () => {
  it('ranks leads.import first with its count, first/last seen and sample request ids', async () => {
    const report = await diagnose({});
    expect(failing(report)).toEqual(['errors.by_procedure']);
    expect(finding(report, 'errors.request').status).toBe('skip');
    const by = finding(report, 'errors.by_procedure');
    expect(by.summary.en).toMatch(/^3 5xx in the last 60 min; most: \/api\/trpc\/leads\.import 3$/);
    const ranking = by.evidence.ranking as {
      procedure: string;
      count: number;
      sample_request_ids: string[];
    }[];
    expect(ranking[0]).toMatchObject({
      procedure: '/api/trpc/leads.import',
      count: 3,
      statuses: { '500': 3 },
    });
    expect(ranking[0]!.sample_request_ids.sort()).toEqual(['req-import-1', 'req-import-2', 'req-import-3']);
    expect(by.evidence).toMatchObject({
      ranking: [expect.objectContaining({ first_seen: expect.any(String), last_seen: expect.any(String) })],
    });
  });
});

describe('guardia diagnose errors (the CLI)', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'guardia-diagnose-errors-'));
  });
  afterAll(async () => rm(cwd, { recursive: true, force: true }));
  // No guardia.yaml in cwd: the built-in runbook policy; no Sentry token: that part skips.
  const env = () => cleanEnv({ NO_COLOR: '1' }, (k) => k.startsWith('SENTRY_'));

  it('--request-id prints the procedure, the stack and the payload shape, and exits 1', async () => {
    const run = await runGuardia(
      ['diagnose', 'errors', '--request-id', 'req-import-2', '--log-file', app.logFile, '--lang', 'en'],
      { cwd, env: env() },
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('POST /api/trpc/leads.import answered 500 for request req-import-2');
    expect(run.stdout).toMatch(/stack: .*TypeError: Cannot read properties of undefined.*at normalizeEmail/);
    expect(run.stdout).toMatch(
      /payload: \{"tenantId":1,"leads":\{"length":2,"items":\[\{"name":"string\(11\)"/,
    );
    for (const s of [...app.secrets, app.login.password, ...PII])
      expect(run.stdout.includes(s), s).toBe(false);

    const json = await runGuardia(
      ['diagnose', 'errors', '--request-id', 'req-import-2', '--log-file', app.logFile, '--json'],
      { cwd, env: env() },
    );
    expect(json.code, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout) as PlaybookReportJson;
    const req = finding(report, 'errors.request');
    expect(req.evidence.procedure).toBe('/api/trpc/leads.import');
    expect((req.evidence.stack as string[])[0]).toMatch(/^TypeError: /);
    expect(req.evidence.payload_hints).toContain('leads[]: 1 of 2 items lack email');
    expect(finding(report, 'errors.sentry').status).toBe('skip');
    for (const s of [...app.secrets, app.login.password, ...PII])
      expect(json.stdout.includes(s), s).toBe(false);
  });

  it('without an id ranks leads.import first', async () => {
    const run = await runGuardia(['diagnose', 'errors', '--log-file', app.logFile, '--json'], {
      cwd,
      env: env(),
    });
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as PlaybookReportJson;
    const ranking = finding(report, 'errors.by_procedure').evidence.ranking as { procedure: string }[];
    expect(ranking[0]?.procedure).toBe('/api/trpc/leads.import');
  });
});

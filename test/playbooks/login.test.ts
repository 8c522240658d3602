/**
 * `diagnose login` against the real reference app (MariaDB, Redis, the TLS-proxy stand-in): all switches off, every
 * check passes or skips for a stated reason; each fault switch on, exactly the checks the runbook names fail. Every
 * report is searched for every secret the app uses and for the login password: none may appear.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_TARGETS,
  type CheckContext,
  type PlaybookReport,
  type PlaybookTargets,
  type RunOptions,
} from '../../src/playbooks/check.js';
import { runPlaybook } from '../../src/playbooks/runner.js';
import { startReferenceApp, type ReferenceApp } from '../helpers/reference-app.js';

const LOGIN_IDS = [
  'login.cookie_flags',
  'login.cors',
  'login.cross_site',
  'login.log_signatures',
  'login.node_env',
  'login.secrets',
  'login.session_consistency',
  'login.set_cookie',
  'login.tenant',
  'login.trust_proxy',
  'login.urls',
];

function contextFor(
  app: ReferenceApp,
  options: RunOptions = {},
  over: Partial<PlaybookTargets> = {},
): CheckContext {
  return {
    targets: {
      ...DEFAULT_TARGETS,
      appUrl: app.appUrl,
      ...(app.proxyUrl ? { proxyUrl: app.proxyUrl } : {}),
      instances: app.urls,
      envFile: app.envFile,
      login: app.login,
      mysqlDsn: app.mysqlDsn,
      redisUrl: app.redisUrl,
      logFile: app.logFiles.join(','),
      ...over,
    },
    options,
    now: () => new Date(),
    // Empty on purpose: the runner would scrub known secrets, and this suite proves the checks never copy one.
    secrets: [],
  };
}

async function diagnose(
  app: ReferenceApp,
  options: RunOptions = {},
  over: Partial<PlaybookTargets> = {},
): Promise<PlaybookReport> {
  const report = await runPlaybook('login', contextFor(app, options, over), { timeoutMs: 10_000 });
  expect(report.findings.map((f) => f.id).sort()).toEqual(LOGIN_IDS);
  assertNoSecret(app, report);
  return report;
}

function assertNoSecret(app: ReferenceApp, report: unknown): void {
  const text = JSON.stringify(report);
  for (const s of [...app.secrets, app.login.password])
    expect(text.includes(s), 'a secret reached the findings').toBe(false);
}

const failing = (r: PlaybookReport) =>
  r.findings
    .filter((f) => f.status === 'fail')
    .map((f) => f.id)
    .sort();
const finding = (r: PlaybookReport, id: string) => r.findings.find((f) => f.id === id)!;

/** Polls a log file until it contains `text`. */
async function waitForLog(file: string, text: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await readFile(file, 'utf8').catch(() => '')).includes(text)) {
    if (Date.now() > deadline) throw new Error(`"${text}" never reached ${file}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('diagnose login: all switches off (two instances)', () => {
  let app: ReferenceApp;
  beforeAll(async () => {
    app = await startReferenceApp({ instances: 2 });
  });
  afterAll(async () => app?.stop());

  it('passes every check, or skips it for a stated reason', async () => {
    const report = await diagnose(app);
    expect(failing(report)).toEqual([]);
    for (const f of report.findings) {
      expect(['pass', 'skip'], `${f.id}: ${f.status} — ${f.summary.en}`).toContain(f.status);
      expect(f.summary.en.length).toBeGreaterThan(0);
      expect(f.summary.es.length).toBeGreaterThan(0);
    }
    // VITE_API_URL is not in the app's env: nothing cross-site to check.
    expect(finding(report, 'login.cross_site')).toMatchObject({ status: 'skip' });
    expect(finding(report, 'login.cross_site').summary.en).toContain('VITE_API_URL is not set');
    expect(finding(report, 'login.set_cookie').summary.en).toContain(
      'Path=/; HttpOnly; SameSite=Lax; Secure',
    );
    expect(finding(report, 'login.set_cookie').summary.en).toContain('auth.me accepts it');
    expect(finding(report, 'login.session_consistency').summary.en).toContain(
      'accepted by every other instance',
    );
    expect(finding(report, 'login.secrets').evidence.secrets).toEqual([
      expect.objectContaining({ key: 'JWT_SECRET', length_bytes: 48, problems: [] }),
      expect.objectContaining({ key: 'COOKIE_SECRET', length_bytes: 48, problems: [] }),
    ]);
    expect(report.status).toBe('pass');
  });

  it('fails only login.tenant for a suspended or billing-locked tenant (--tenant), with the runbook mitigation', async () => {
    for (const [tenant, state] of [
      ['2', 'suspended'],
      ['3', 'billing_locked'],
    ] as const) {
      const report = await diagnose(app, { tenantId: tenant });
      expect(failing(report)).toEqual(['login.tenant']);
      const t = finding(report, 'login.tenant');
      expect(t.summary.en).toBe(`tenant ${tenant} is ${state} in the app database: its users cannot log in`);
      expect(t.mitigation?.es).toBe(
        'Si es solo un tenant: validar estado del tenant (suspendido/billing lock).',
      );
    }
  });

  it("maps the login's 403 TENANT_SUSPENDED when the synthetic user belongs to the suspended tenant", async () => {
    const login = { email: 'owner@tenant2.example', password: app.login.password, tenantId: '2' };
    const report = await diagnose(app, {}, { login, mysqlDsn: undefined });
    expect(failing(report)).toEqual(['login.tenant']);
    expect(finding(report, 'login.tenant').summary.en).toContain('answered 403 TENANT_SUSPENDED');
    expect(finding(report, 'login.set_cookie')).toMatchObject({ status: 'skip' });
  });

  it('the errors playbook passes too', async () => {
    const report = await runPlaybook('errors', contextFor(app), { timeoutMs: 10_000 });
    assertNoSecret(app, report);
    expect(report.status).toBe('pass');
    expect(report.findings.find((f) => f.id === 'errors.by_procedure')?.status).toBe('pass');
  });
});

describe('diagnose login: TRUST_PROXY unset behind the proxy', () => {
  let app: ReferenceApp;
  beforeAll(async () => {
    app = await startReferenceApp({ env: { TRUST_PROXY: undefined } });
  });
  afterAll(async () => app?.stop());

  it('fails login.trust_proxy and login.set_cookie with the cause in one sentence', async () => {
    const report = await diagnose(app);
    expect(failing(report)).toEqual(['login.set_cookie', 'login.trust_proxy']);
    const summary =
      'login returned 200 without Set-Cookie: TRUST_PROXY is unset, so the app sees http and will not send a Secure cookie';
    expect(finding(report, 'login.trust_proxy').summary.en).toBe(summary);
    expect(finding(report, 'login.set_cookie').summary.en).toBe(summary);
    expect(finding(report, 'login.set_cookie').mitigation?.es).toBe(
      'Si no hay cookie en cliente: corregir `TRUST_PROXY`, `COOKIE_SECURE`, URL HTTPS.',
    );
  });
});

describe('diagnose login: COOKIE_SAMESITE=none with COOKIE_SECURE=false', () => {
  let app: ReferenceApp;
  beforeAll(async () => {
    app = await startReferenceApp({ env: { COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'false' } });
  });
  afterAll(async () => app?.stop());

  it('fails login.cookie_flags, and login.set_cookie on the cookie it really got', async () => {
    const report = await diagnose(app);
    expect(failing(report)).toEqual(['login.cookie_flags', 'login.set_cookie']);
    expect(finding(report, 'login.cookie_flags').summary.en).toContain(
      'COOKIE_SAMESITE=none with COOKIE_SECURE=false',
    );
    expect(finding(report, 'login.set_cookie').summary.en).toContain('SameSite=None without Secure');
  });
});

describe('diagnose login: two instances with different secrets', () => {
  let app: ReferenceApp;
  beforeAll(async () => {
    app = await startReferenceApp({
      instances: 2,
      instanceEnv: [
        {},
        {
          JWT_SECRET: `jwt-${'b'.repeat(20)}-${Date.now()}`,
          COOKIE_SECRET: `cookie-${'c'.repeat(20)}-${Date.now()}`,
        },
      ],
    });
  });
  afterAll(async () => app?.stop());

  it('fails login.session_consistency naming the instances and secrets, then login.log_signatures once logged', async () => {
    const first = await diagnose(app);
    expect(failing(first)).toContain('login.session_consistency');
    for (const id of failing(first))
      expect(['login.log_signatures', 'login.session_consistency']).toContain(id);
    const s = finding(first, 'login.session_consistency');
    expect(s.summary.en).toContain('JWT_SECRET differs between instances');
    expect(s.summary.en).toContain('COOKIE_SECRET differs between instances');
    expect(s.summary.en).toMatch(/a session from \S+-0 is refused by \S+-1 \(401\)/);
    expect(s.mitigation?.es).toContain('verificar consistencia de secretos entre instancias');

    // Instance 1 logged the refused session: the next run sees it.
    await waitForLog(app.logFiles[1]!, 'invalid session signature');
    const second = await diagnose(app);
    expect(failing(second)).toEqual(['login.log_signatures', 'login.session_consistency']);
    const logs = finding(second, 'login.log_signatures').summary.en;
    expect(logs).toContain('"invalid session signature"');
    // Instance 1 could not verify the cookie's signature: COOKIE_SECRET is the first layer to differ.
    expect(logs).toMatch(/on \S+-1 .*COOKIE_SECRET did not verify/);
  });
});

describe('diagnose login: FAULT_CORS_ANY_ORIGIN=1', () => {
  let app: ReferenceApp;
  beforeAll(async () => {
    app = await startReferenceApp({ env: { FAULT_CORS_ANY_ORIGIN: '1' } });
  });
  afterAll(async () => app?.stop());

  it('fails only login.cors: a foreign origin is echoed with credentials', async () => {
    const report = await diagnose(app);
    expect(failing(report)).toEqual(['login.cors']);
    expect(finding(report, 'login.cors').summary.en).toContain(
      'a foreign origin https://evil.example is allowed (Access-Control-Allow-Origin "https://evil.example" with credentials)',
    );
  });
});

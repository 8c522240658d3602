/**
 * The GitHub poller against a local server that answers as GitHub documents (a GitHub Enterprise base path,
 * `Link` pagination, a 403 rate-limit answer with x-ratelimit-remaining 0, a 502): a run whose webhook never
 * arrived is filled in, so the week's evidence turns met. On SQLite and PostgreSQL.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { Policy } from '../../src/domain/policy/schema.js';
import { upsertWorkflowRun } from '../../src/store/workflow-runs-repo.js';
import { DIALECTS, startTestApp, type TestApp } from '../helpers/harness.js';

const fixture = JSON.parse(
  fs.readFileSync(
    new URL('../fixtures/integrations/github-list-workflow-runs.json', import.meta.url),
    'utf8',
  ),
) as { response: { body: { workflow_runs: Record<string, unknown>[] } } };
const TEMPLATE = fixture.response.body.workflow_runs[0]!;
const TOKEN = 'ghp_test_0123456789abcdefghijklmnopqrstuvwx';

const WORKFLOWS = [
  { id: 11, name: 'Test/Build', path: '.github/workflows/ci.yml', state: 'active' },
  { id: 12, name: 'Real DB parity', path: '.github/workflows/parity.yml', state: 'active' },
  {
    id: 13,
    name: 'Backup restore smoke',
    path: '.github/workflows/backup-restore-smoke.yml',
    state: 'active',
  },
];

/** A run as GitHub lists it (the fixture's shape), completed at `at`. */
function ghRun(id: number, file: string, conclusion: string, at: string): Record<string, unknown> {
  const w = WORKFLOWS.find((x) => x.path.endsWith(file))!;
  return {
    ...TEMPLATE,
    id,
    name: w.name,
    path: w.path,
    workflow_id: w.id,
    run_number: id - 9000,
    head_branch: 'main',
    conclusion,
    status: 'completed',
    html_url: `https://ghe.example.com/acme/app/actions/runs/${id}`,
    created_at: at,
    run_started_at: at,
    updated_at: new Date(Date.parse(at) + 10 * 60_000).toISOString().replace('.000', ''),
    repository: { full_name: 'acme/app' },
  };
}

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
}

/** GitHub Enterprise-style API under /api/v3. Behaviour is set per test. */
class FakeGitHub {
  server = http.createServer((req, res) => this.handle(req, res));
  seen: Seen[] = [];
  base = '';
  /** file → pages of runs */
  runs = new Map<string, Record<string, unknown>[][]>();
  rateLimitOnce = new Set<string>(); // request paths answered once with 403 rate limit
  retryAfter = new Map<string, number>(); // request path → retry-after seconds (always)
  failOnce = new Set<string>(); // request paths answered once with 502

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v3`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = url.pathname + url.search;
    this.seen.push({ path: key, headers: req.headers });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { message: 'Bad credentials' });
    if (this.retryAfter.has(key))
      return json(
        429,
        { message: 'API rate limit exceeded' },
        { 'retry-after': String(this.retryAfter.get(key)) },
      );
    if (this.rateLimitOnce.delete(key))
      return json(
        403,
        {
          message: 'API rate limit exceeded for installation.',
          documentation_url: 'https://docs.github.com/rest',
        },
        {
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '5000',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
        },
      );
    if (this.failOnce.delete(key)) return json(502, { message: 'Server Error' });
    if (url.pathname === '/api/v3/repos/acme/app/actions/workflows')
      return json(200, { total_count: WORKFLOWS.length, workflows: WORKFLOWS });
    const m = /^\/api\/v3\/repos\/acme\/app\/actions\/workflows\/([^/]+)\/runs$/.exec(url.pathname);
    if (!m) return json(404, { message: 'Not Found' });
    const pages = this.runs.get(decodeURIComponent(m[1]!));
    if (!pages) return json(404, { message: 'Not Found' });
    const page = Number(url.searchParams.get('page') ?? '1');
    const headers: Record<string, string> = {};
    if (page < pages.length) {
      const next = new URL(`${this.base}${url.pathname.slice('/api/v3'.length)}`);
      url.searchParams.forEach((v, k) => next.searchParams.set(k, v));
      next.searchParams.set('page', String(page + 1));
      const last = new URL(next);
      last.searchParams.set('page', String(pages.length));
      headers.link = `<${next.href}>; rel="next", <${last.href}>; rel="last"`;
    }
    json(200, { total_count: pages.flat().length, workflow_runs: pages[page - 1] ?? [] }, headers);
  }
}

describe.each(DIALECTS)('GitHub poller on %s', (dialect) => {
  const gh = new FakeGitHub();
  let t: TestApp;
  beforeAll(async () => gh.start());
  afterAll(async () => new Promise<void>((resolve) => gh.server.close(() => resolve())));

  beforeEach(async () => {
    const base = loadPolicy({});
    const policy: Policy = { ...base, github: { ...base.github, repo: 'acme/app', api_url: gh.base } };
    t = await startTestApp(dialect, { policy, env: { GITHUB_TOKEN: TOKEN } });
    gh.seen = [];
    gh.runs.clear();
  });
  afterEach(async () => t.close());

  const smokeState = async (period = '2026-W48') => {
    const report = await t.services.evidence.status([period]);
    return report.periods[0]!.requirements.find((r) => r.id === 'backup-restore-smoke')!;
  };

  it('fills in a run the webhook missed: paginated, through a rate limit and a 502, on a GHE base path', async () => {
    // The webhook delivered Tuesday's failed smoke run; Thursday's success never arrived.
    await upsertWorkflowRun(
      t.services.store.db,
      {
        repo: 'acme/app',
        run_id: '9102',
        run_attempt: 1,
        run_number: 102,
        workflow_path: '.github/workflows/backup-restore-smoke.yml',
        workflow_name: 'Backup restore smoke',
        head_branch: 'main',
        head_sha: null,
        event: 'schedule',
        status: 'completed',
        conclusion: 'failure',
        html_url: 'https://ghe.example.com/acme/app/actions/runs/9102',
        run_started_at: '2026-11-24T03:00:00Z',
        completed_at: '2026-11-24T03:10:00Z',
        source: 'webhook',
      },
      '2026-11-24T03:10:01.000Z',
    );
    expect((await smokeState()).state).toBe('failed');

    gh.runs.set('backup-restore-smoke.yml', [
      [ghRun(9104, 'backup-restore-smoke.yml', 'success', '2026-11-26T03:00:00Z')],
      [
        ghRun(9103, 'backup-restore-smoke.yml', 'success', '2026-11-25T03:00:00Z'),
        ghRun(9102, 'backup-restore-smoke.yml', 'failure', '2026-11-24T03:00:00Z'),
        ghRun(9001, 'backup-restore-smoke.yml', 'success', '2026-10-01T03:00:00Z'), // older than --since
      ],
      [ghRun(9000, 'backup-restore-smoke.yml', 'success', '2026-09-01T03:00:00Z')], // never fetched
    ]);
    gh.runs.set('ci.yml', [[ghRun(9201, 'ci.yml', 'success', '2026-11-23T09:00:00Z')]]);
    gh.runs.set('parity.yml', [[ghRun(9301, 'parity.yml', 'failure', '2026-11-23T10:00:00Z')]]);
    const smokeRuns = '/api/v3/repos/acme/app/actions/workflows/backup-restore-smoke.yml/runs';
    const page2 = `${smokeRuns}?branch=main&status=completed&per_page=100&page=2`;
    gh.rateLimitOnce.add(page2);
    gh.failOnce.add(
      '/api/v3/repos/acme/app/actions/workflows/parity.yml/runs?branch=main&status=completed&per_page=100',
    );

    const progress: string[] = [];
    const result = await t.services.evidence.sync({
      since: new Date('2026-10-23T10:00:00Z'),
      backoffMs: 10,
      progress: (m) => progress.push(m),
    });

    expect(result).toMatchObject({
      repo: 'acme/app',
      branch: 'main',
      complete: true,
      seen: 5,
      new: 4,
      updated: 0,
    });
    expect(result.rate_limited_until).toBeUndefined();
    expect(result.workflows).toEqual([
      { entry: 'Test/Build', files: ['ci.yml'] },
      { entry: 'Real DB parity', files: ['parity.yml'] },
      { entry: 'backup-restore-smoke.yml', files: ['backup-restore-smoke.yml'] },
    ]);
    // Page 2 was asked twice (rate limited, then after the reset), page 3 never: page 2 reached past --since.
    expect(gh.seen.filter((s) => s.path === page2)).toHaveLength(2);
    expect(gh.seen.some((s) => s.path.includes('page=3'))).toBe(false);
    expect(progress.some((m) => m.includes('rate limit'))).toBe(true);
    expect(progress.some((m) => m.includes('502'))).toBe(true);
    // GitHub's documented request headers, on every request.
    for (const s of gh.seen) {
      expect(s.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(s.headers.accept).toBe('application/vnd.github+json');
      expect(s.headers['x-github-api-version']).toBe('2022-11-28');
    }

    const smoke = await smokeState();
    expect(smoke.state).toBe('met');
    expect(smoke.evidence.map((e) => e.url)).toEqual([
      'https://ghe.example.com/acme/app/actions/runs/9104',
      'https://ghe.example.com/acme/app/actions/runs/9103',
    ]);
    const stored = await t.services.store.db
      .selectFrom('workflow_runs')
      .select(['run_id', 'source', 'completed_at'])
      .where('run_id', '=', '9104')
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ run_id: '9104', source: 'api', completed_at: '2026-11-26T03:10:00.000Z' });

    // Polling again changes nothing.
    const again = await t.services.evidence.sync({ since: new Date('2026-10-23T10:00:00Z') });
    expect(again).toMatchObject({ seen: 5, new: 0, updated: 0 });
  });

  it('a rate limit longer than the allowed wait stops the sync and says until when', async () => {
    gh.runs.set('backup-restore-smoke.yml', [
      [ghRun(9104, 'backup-restore-smoke.yml', 'success', '2026-11-26T03:00:00Z')],
    ]);
    gh.retryAfter.set('/api/v3/repos/acme/app/actions/workflows?per_page=100', 3600);
    const result = await t.services.evidence.sync({
      since: new Date('2026-10-23T10:00:00Z'),
      maxWaitMs: 1000,
    });
    gh.retryAfter.clear();
    expect(result.complete).toBe(false);
    expect(Date.parse(result.rate_limited_until!)).toBeGreaterThan(Date.now() + 3500_000);
    expect(result.seen).toBe(0);
  });

  it('names a workflow the repository does not have and still polls the others', async () => {
    gh.runs.set('backup-restore-smoke.yml', [
      [ghRun(9104, 'backup-restore-smoke.yml', 'success', '2026-11-26T03:00:00Z')],
    ]);
    // ci.yml and parity.yml have no runs endpoint here: GitHub answers 404.
    const result = await t.services.evidence.sync({ since: new Date('2026-10-23T10:00:00Z') });
    expect(result.complete).toBe(true);
    expect(result.new).toBe(1);
    expect(result.workflows.find((w) => w.entry === 'Test/Build')?.problem).toBe(
      'workflow file "ci.yml" not found in acme/app',
    );
    expect((await smokeState()).state).toBe('met');
  });

  it('a wrong token is a clear upstream error (exit 2 in the CLI)', async () => {
    const base = loadPolicy({});
    const policy: Policy = { ...base, github: { ...base.github, repo: 'acme/app', api_url: gh.base } };
    const other = await startTestApp(dialect, { policy, env: { GITHUB_TOKEN: 'wrong' } });
    try {
      await expect(
        other.services.evidence.sync({ since: new Date('2026-10-23T10:00:00Z') }),
      ).rejects.toMatchObject({
        code: 'upstream_error',
        message: expect.stringContaining('GitHub API 401'),
      });
    } finally {
      await other.close();
    }
  });
});

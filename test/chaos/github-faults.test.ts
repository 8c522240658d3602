/**
 * Dependency fault: the GitHub stand-in answers 500, then 403 with `x-ratelimit-remaining: 0` and
 * `x-ratelimit-reset`, then 429 with `retry-after`, before it succeeds.
 *
 * 1. The GitHub Issues channel (src/notify/github-issues.ts) through the engine's outbox, on a fake clock: the 500
 *    is retried after the outbox's own backoff (10 s); the rate-limit answers are retried when GitHub said
 *    (the reset, 90 s; the retry-after, 120 s) and not before — where the outbox's own backoff would have been
 *    20 s and 40 s; each failure is on the timeline; exactly one issue is opened, a later failure comments on it
 *    (through a 502), and the resolution closes it.
 * 2. The evidence poller (src/evidence/github-poller.ts) against the same kinds of answers: it waits what GitHub
 *    said, backs off on 5xx, and its report (progress lines) shows every retry; every run is stored.
 * On SQLite and PostgreSQL.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { Policy } from '../../src/domain/policy/schema.js';
import { startFaultySink, type Behaviour, type FaultySink } from '../helpers/faults.js';
import { startGitHubStandIn, type GitHubStandIn } from '../helpers/github-standin.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';
import { editedPolicy, GENERIC_TO_ISSUES, githubAt } from './policies.js';
import { recordChaos } from './stats.js';

const T = '2026-11-27T10:00:00.000Z';
const SEC = 1000;
const TOKEN = 'ghp_test_token_0123456789';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
});
const serverError = (status = 500) => json(status, { message: 'Server Error' });
const primaryLimit = (resetInS: number) =>
  json(
    403,
    {
      message: 'API rate limit exceeded for installation.',
      documentation_url: 'https://docs.github.com/rest',
    },
    {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-used': '5000',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + resetInS),
    },
  );
const secondaryLimit = (retryAfterS: number) =>
  json(429, { message: 'You have exceeded a secondary rate limit.' }, { 'retry-after': String(retryAfterS) });

describe.each(DIALECTS)('GitHub failing and rate limiting on %s', (dialect) => {
  let t: TestApp | undefined;
  let gh: GitHubStandIn | undefined;
  let api: FaultySink | undefined;

  afterEach(async () => {
    await gh?.close();
    await api?.close();
    await t?.close();
    t = gh = api = undefined;
  });

  it('GitHub Issues: 500, 403 rate limit, 429 retry-after — retried when GitHub said, one issue, all on the timeline', async () => {
    gh = await startGitHubStandIn('acme/app', TOKEN);
    // Faults hit the writes (each delivery attempt makes exactly one); reads are the best-effort marker lookup.
    const faults: ReturnType<typeof json>[] = [];
    const standIn = gh.sink.respond;
    gh.sink.respond = (req) => (req.method !== 'GET' && faults.length > 0 ? faults.shift()! : standIn(req));
    t = await startTestApp(dialect, {
      now: T,
      policy: editedPolicy([GENERIC_TO_ISSUES, ...githubAt(gh.url)]),
      env: { ...TEST_ENV, GITHUB_TOKEN: TOKEN },
    });
    const engine = new Engine(t.services, { random: () => 0.5 });
    const writes = () => gh!.sink.requests.filter((r) => r.method !== 'GET').length;
    const alert = async (status: 'firing' | 'resolved', title: string) => {
      const res = await t!.app.inject({
        method: 'POST',
        url: '/hooks/generic',
        headers: { authorization: `Bearer ${TEST_ENV.GENERIC_TOKEN}` },
        payload: { title, dedup_key: 'nightly-backup', status, source: 'backup' },
      });
      expect(res.statusCode).toBe(202);
      return (res.json() as { results: { incident_id: number }[] }).results[0]!.incident_id;
    };

    faults.push(serverError(500), primaryLimit(90), secondaryLimit(120));
    const id = await alert('firing', 'Nightly backup failed');
    await engine.runDue(); // attempt 1: 500 → own backoff, 10 s
    expect(writes()).toBe(1);
    t.clock.advance(10 * SEC);
    await engine.runDue(); // attempt 2: 403, rate limit resets in 90 s (own backoff would be 20 s)
    expect(writes()).toBe(2);
    t.clock.advance(20 * SEC);
    await engine.runDue();
    expect(writes(), 'not retried before the rate limit resets').toBe(2);
    t.clock.advance(70 * SEC);
    await engine.runDue(); // attempt 3: 429, retry after 120 s (own backoff would be 40 s)
    expect(writes()).toBe(3);
    t.clock.advance(40 * SEC);
    await engine.runDue();
    expect(writes(), 'not retried before retry-after').toBe(3);
    t.clock.advance(80 * SEC);
    await engine.runDue(); // attempt 4: created
    expect(writes()).toBe(4);
    expect(gh.issues).toHaveLength(1);
    expect(gh.issues[0]).toMatchObject({ state: 'open', title: '[SEV2] Nightly backup failed' });

    // It fails again (GitHub answers 502 once): the comment is retried, no second issue.
    faults.push(serverError(502));
    await alert('firing', 'Nightly backup failed again');
    await engine.runDue();
    t.clock.advance(10 * SEC);
    await engine.runDue();
    // The success resolves the incident: a comment and the close.
    await alert('resolved', 'Nightly backup succeeded');
    await engine.runDue();
    expect(gh.issues).toHaveLength(1);
    expect(gh.issues[0]!.state).toBe('closed');
    expect(gh.issues[0]!.comments).toEqual([
      expect.stringContaining('Failed again (2 failures so far'),
      expect.stringContaining('Resolved: the workflow succeeded again'),
    ]);

    const entries = (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json().timeline as { kind: string; message: string }[];
    const failed = entries.filter((e) => e.kind === 'notification_failed').map((e) => e.message);
    expect(failed).toEqual([
      expect.stringMatching(
        /attempt 1\/5\): GitHub create issue in acme\/app answered 500: Server Error; retrying at 2026-11-27T10:00:10\.000Z$/,
      ),
      expect.stringMatching(
        /attempt 2\/5\): GitHub create issue in acme\/app answered 403 \(rate limited\): API rate limit exceeded.*\(retry after (89|90) s\); retrying at .*\(when the provider said to\)$/,
      ),
      expect.stringMatching(
        /attempt 3\/5\): GitHub create issue in acme\/app answered 429 \(rate limited\).*\(retry after 120 s\); retrying at 2026-11-27T10:03:40\.000Z \(when the provider said to\)$/,
      ),
      expect.stringMatching(/attempt 1\/5\): GitHub comment on acme\/app#1 answered 502/),
    ]);
    const delivered = entries.filter((e) => e.kind === 'notification_delivered').map((e) => e.message);
    expect(delivered).toEqual([
      expect.stringContaining('delivered (attempt 4): opened GitHub issue acme/app#1'),
      expect.stringContaining('delivered (attempt 2): commented on GitHub issue acme/app#1'),
      expect.stringContaining('delivered (attempt 1): closed GitHub issue acme/app#1'),
    ]);
    expect(entries.some((e) => e.kind === 'notification_gave_up')).toBe(false);
    for (const e of entries) expect(e.message).not.toContain(TOKEN);

    recordChaos(`github-issues ${dialect}`, {
      faults_injected: 4,
      answered_500: 1,
      answered_502: 1,
      answered_403_rate_limit: 1,
      answered_429_retry_after: 1,
      retries: failed.length,
      provider_waits_honoured: 2,
      issues_opened: gh.issues.length,
      duplicate_issues: gh.issues.length - 1,
      lost: 0,
    });
  });

  it('evidence poller: 500, 403 rate limit and 429 retry-after are waited out; every run stored, every retry reported', async () => {
    api = await startFaultySink();
    const base = `${api.url}/api/v3`;
    const fixture = JSON.parse(
      fs.readFileSync(
        new URL('../fixtures/integrations/github-list-workflow-runs.json', import.meta.url),
        'utf8',
      ),
    ) as { response: { body: { workflow_runs: Record<string, unknown>[] } } };
    const template = fixture.response.body.workflow_runs[0]!;
    const workflows = [
      { id: 11, name: 'Test/Build', path: '.github/workflows/ci.yml', state: 'active' },
      { id: 12, name: 'Real DB parity', path: '.github/workflows/parity.yml', state: 'active' },
      {
        id: 13,
        name: 'Backup restore smoke',
        path: '.github/workflows/backup-restore-smoke.yml',
        state: 'active',
      },
    ];
    const run = (id: number, w: (typeof workflows)[number], at: string) => ({
      ...template,
      id,
      name: w.name,
      path: w.path,
      workflow_id: w.id,
      head_branch: 'main',
      conclusion: 'success',
      status: 'completed',
      html_url: `https://ghe.example.com/acme/app/actions/runs/${id}`,
      created_at: at,
      run_started_at: at,
      updated_at: at,
      repository: { full_name: 'acme/app' },
    });
    const runs = new Map(
      workflows.map((w, i) => [
        w.path.split('/').pop()!,
        [run(9100 + i, w, '2026-11-24T03:00:00Z'), run(9200 + i, w, '2026-11-25T03:00:00Z')],
      ]),
    );
    // Per request path: the faults answered before the real answer, in order.
    const faultsFor = new Map<string, Behaviour[]>([
      ['/api/v3/repos/acme/app/actions/workflows', [serverError(500)]],
      ['/api/v3/repos/acme/app/actions/workflows/ci.yml/runs', [primaryLimit(30)]],
      ['/api/v3/repos/acme/app/actions/workflows/parity.yml/runs', [secondaryLimit(3)]],
      [
        '/api/v3/repos/acme/app/actions/workflows/backup-restore-smoke.yml/runs',
        [serverError(502), primaryLimit(20), secondaryLimit(1)],
      ],
    ]);
    const injected = [...faultsFor.values()].reduce((n, list) => n + list.length, 0);
    api.behave = (req) => {
      const url = new URL(req.url, api!.url);
      const fault = faultsFor.get(url.pathname)?.shift();
      if (fault) return fault;
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { message: 'Bad credentials' });
      if (url.pathname === '/api/v3/repos/acme/app/actions/workflows')
        return json(200, { total_count: workflows.length, workflows });
      const m = /\/actions\/workflows\/([^/]+)\/runs$/.exec(url.pathname);
      const list = m ? runs.get(m[1]!) : undefined;
      return list
        ? json(200, { total_count: list.length, workflow_runs: list })
        : json(404, { message: 'Not Found' });
    };
    const defaults = loadPolicy({});
    const policy: Policy = { ...defaults, github: { ...defaults.github, repo: 'acme/app', api_url: base } };
    t = await startTestApp(dialect, { now: T, policy, env: { GITHUB_TOKEN: TOKEN } });

    const waits: number[] = [];
    const progress: string[] = [];
    const result = await t.services.evidence.sync({
      since: new Date('2026-11-01T00:00:00Z'),
      backoffMs: 100,
      // Waits are recorded, not slept: the test checks how long the poller WOULD wait.
      sleep: async (ms) => {
        waits.push(ms);
      },
      progress: (m) => progress.push(m),
    });
    expect(result).toMatchObject({ complete: true, seen: 6, new: 6 });
    expect(result.rate_limited_until).toBeUndefined();
    const stored = await t.services.store.db.selectFrom('workflow_runs').select('run_id').execute();
    expect(stored.map((r) => r.run_id).sort()).toEqual(['9100', '9101', '9102', '9200', '9201', '9202']);

    const retries = progress.filter((m) => /retrying|rate limit/i.test(m));
    expect(retries).toHaveLength(injected);
    expect(progress.filter((m) => m.includes('GitHub answered 500'))).toHaveLength(1);
    expect(progress.filter((m) => m.includes('GitHub answered 502'))).toHaveLength(1);
    expect(progress.filter((m) => m.startsWith('GitHub rate limit: waiting'))).toHaveLength(4);
    // Waits: backoff 100 ms for the 5xx answers; what GitHub said for the limits (retry-after 1 s and 3 s, resets
    // 20 s and 30 s away in GitHub's real time).
    expect(waits.filter((w) => w === 100)).toHaveLength(2);
    const limitWaits = waits.filter((w) => w !== 100).sort((a, b) => a - b);
    expect(limitWaits).toHaveLength(4);
    expect(limitWaits.slice(0, 2)).toEqual([1000, 3000]);
    expect(limitWaits[2]).toBeGreaterThan(15_000);
    expect(limitWaits[2]).toBeLessThanOrEqual(20_000);
    expect(limitWaits[3]).toBeGreaterThan(25_000);
    expect(limitWaits[3]).toBeLessThanOrEqual(30_000);
    recordChaos(`github-poller ${dialect}`, {
      faults_injected: injected,
      retries: retries.length,
      waits_ms: waits.join('/'),
      runs_stored: stored.length,
      lost: 0,
    });
  });
});

/**
 * GitHub `workflow_run` webhooks: the signature (known-answer vector, deliveries signed with @octokit/webhooks-methods),
 * which runs are recorded and which page, and the HTTP door on SQLite and PostgreSQL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';
import { loadPolicy, parsePolicyText } from '../../src/domain/policy/load.js';
import type { IntegrationPolicy } from '../../src/domain/policy/schema.js';
import type { InboundRequest } from '../../src/ingest/adapter.js';
import { DEFAULT_GITHUB_WORKFLOWS, githubAdapter, verifyGitHubSignature } from '../../src/ingest/github.js';
import { GuardiaError } from '../../src/shared/errors.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/integrations');
const readFixture = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));

const completed = readFixture('github-workflow-run-completed.json') as {
  _secret: string;
  request: { headers: Record<string, string>; body: Record<string, unknown> };
};
const vector = readFixture('github-signature-test-vector.json') as {
  secret: string;
  payload: string;
  'X-Hub-Signature-256': string;
};
const listRuns = readFixture('github-list-workflow-runs.json') as {
  response: { body: { workflow_runs: Record<string, unknown>[] } };
};

const SECRET = completed._secret;
const BACKUP_PATH = '.github/workflows/backup-restore-smoke.yml';
const policy = loadPolicy({});
const integration = policy.integrations.find((i) => i.name === 'github')!;

interface RunOptions {
  name?: string;
  path?: string;
  conclusion?: string | null;
  branch?: string | null;
  id?: number;
  action?: string;
}

type Obj = Record<string, unknown>;
/** A payload under construction: tests change nested fields freely. */
interface RunPayload {
  [key: string]: unknown;
  action: string;
  workflow_run: Obj & { head_commit?: Obj };
  workflow?: Obj;
  repository: Obj;
}

/** The documented payload, turned into a run of another workflow. */
function runBody(o: RunOptions = {}): RunPayload {
  const body = structuredClone(completed.request.body) as RunPayload;
  const wfPath = o.path ?? BACKUP_PATH;
  const name = o.name ?? 'Backup restore smoke';
  body.action = o.action ?? 'completed';
  Object.assign(body.workflow_run, {
    name,
    path: wfPath,
    id: o.id ?? body.workflow_run.id,
    head_branch: o.branch === undefined ? 'main' : o.branch,
    conclusion: o.conclusion === undefined ? 'failure' : o.conclusion,
  });
  Object.assign(body.workflow!, { name, path: wfPath });
  return body;
}

function request(raw: string | Buffer, headers: Record<string, string | undefined>): InboundRequest {
  const lower: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return {
    headers: lower,
    query: {},
    rawBody: Buffer.isBuffer(raw) ? raw : Buffer.from(raw),
    receivedAt: new Date(),
  };
}

function parseBody(
  body: unknown,
  headers: Record<string, string | undefined> = {},
  policyIntegration: IntegrationPolicy = integration,
) {
  return githubAdapter.parse(
    request(JSON.stringify(body), {
      'X-GitHub-Event': 'workflow_run',
      'X-GitHub-Delivery': 'd-1',
      ...headers,
    }),
    policyIntegration,
  );
}

function thrown(fn: () => unknown): GuardiaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GuardiaError);
    return err as GuardiaError;
  }
  throw new Error('expected an error');
}

describe('GitHub signature (X-Hub-Signature-256)', () => {
  it('accepts the documented known-answer vector, and octokit signs it the same way', async () => {
    expect(() =>
      verifyGitHubSignature(Buffer.from(vector.payload), vector['X-Hub-Signature-256'], vector.secret),
    ).not.toThrow();
    expect(await sign(vector.secret, vector.payload)).toBe(vector['X-Hub-Signature-256']);
  });

  it('accepts the documented delivery over its exact bytes', () => {
    const raw = JSON.stringify(completed.request.body);
    expect(() => githubAdapter.authenticate(request(raw, completed.request.headers), SECRET)).not.toThrow();
  });

  it('accepts deliveries signed with @octokit/webhooks-methods sign(), including non-ASCII bodies', async () => {
    const raw = JSON.stringify(runBody({ branch: 'fix/überprüfung-🚀' }));
    const signature = await sign(SECRET, raw);
    expect(() =>
      githubAdapter.authenticate(request(raw, { 'X-Hub-Signature-256': signature }), SECRET),
    ).not.toThrow();
  });

  it('refuses a missing, malformed or wrong signature, naming the header and never echoing the secret', async () => {
    const raw = Buffer.from(JSON.stringify(completed.request.body));
    const good = completed.request.headers['X-Hub-Signature-256']!;
    const cases: [string | undefined, RegExp][] = [
      [undefined, /missing X-Hub-Signature-256/],
      ['', /missing X-Hub-Signature-256/],
      [good.replace('sha256=', 'sha1='), /malformed X-Hub-Signature-256/],
      [good.slice(0, -2), /malformed X-Hub-Signature-256/],
      [`${good}00`, /malformed X-Hub-Signature-256/],
      [await sign('another-secret', raw.toString()), /invalid X-Hub-Signature-256/],
    ];
    for (const [signature, message] of cases) {
      const err = thrown(() =>
        githubAdapter.authenticate(request(raw, { 'X-Hub-Signature-256': signature }), SECRET),
      );
      expect(err.code).toBe('unauthenticated');
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain(SECRET);
    }
  });

  it('refuses the documented delivery with one byte changed', () => {
    const raw = Buffer.from(JSON.stringify(completed.request.body));
    raw[raw.indexOf('failure')] = 'F'.charCodeAt(0);
    const err = thrown(() => githubAdapter.authenticate(request(raw, completed.request.headers), SECRET));
    expect(err.code).toBe('unauthenticated');
  });
});

describe('GitHub workflow_run parsing', () => {
  it('ignores the documented run of an unwatched workflow (CI): no record, no alert', () => {
    expect(parseBody(completed.request.body)).toEqual({ alerts: [] });
  });

  it('a failed backup-restore-smoke run → a trigger keyed gh:{repo}:{path}:{branch} and a workflow-run record', () => {
    const delivery = parseBody(runBody(), { 'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect(delivery.alerts).toHaveLength(1);
    expect(delivery.alerts[0]).toMatchObject({
      integration: 'github',
      action: 'trigger',
      dedup_key: `gh:octo-org/octo-repo:${BACKUP_PATH}:main`,
      title: 'backup-restore-smoke.yml failed on main (octo-org/octo-repo)',
      severity: null,
      source: 'octo-org/octo-repo',
      links: [
        {
          href: 'https://github.com/octo-org/octo-repo/actions/runs/289782451',
          text: 'GitHub Actions run #163',
        },
      ],
      delivery_key: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      occurred_at: new Date('2026-08-22T16:41:49Z'),
      details: {
        run_id: '289782451',
        conclusion: 'failure',
        workflow_path: BACKUP_PATH,
        head_sha: '3484a3fb816e0859fd6e1cea078d76385ff50625',
      },
    });
    expect(delivery.alerts[0]!.raw).toBe(JSON.stringify(runBody()));
    expect(delivery.workflowRuns).toEqual([
      {
        repo: 'octo-org/octo-repo',
        run_id: '289782451',
        run_attempt: 1,
        run_number: 163,
        workflow_path: BACKUP_PATH,
        workflow_name: 'Backup restore smoke',
        head_branch: 'main',
        head_sha: '3484a3fb816e0859fd6e1cea078d76385ff50625',
        event: 'push',
        status: 'completed',
        conclusion: 'failure',
        html_url: 'https://github.com/octo-org/octo-repo/actions/runs/289782451',
        run_started_at: '2026-08-22T16:33:24Z',
        completed_at: '2026-08-22T16:41:49Z',
        source: 'webhook',
      },
    ]);
  });

  it('maps conclusions: failure/timed_out/startup_failure trigger, success resolves, cancelled/skipped/neutral stay quiet', () => {
    const outcome = (conclusion: string | null) => {
      const d = parseBody(runBody({ conclusion }));
      return {
        action: d.alerts[0]?.action ?? null,
        title: d.alerts[0]?.title ?? null,
        recorded: d.workflowRuns?.length ?? 0,
      };
    };
    expect(outcome('failure')).toMatchObject({ action: 'trigger', recorded: 1 });
    expect(outcome('timed_out')).toEqual({
      action: 'trigger',
      title: 'backup-restore-smoke.yml timed out on main (octo-org/octo-repo)',
      recorded: 1,
    });
    expect(outcome('startup_failure')).toMatchObject({
      action: 'trigger',
      title: expect.stringContaining('failed to start'),
      recorded: 1,
    });
    expect(outcome('success')).toEqual({
      action: 'resolve',
      title: 'backup-restore-smoke.yml succeeded on main (octo-org/octo-repo)',
      recorded: 1,
    });
    for (const quiet of ['cancelled', 'skipped', 'neutral', 'action_required', null])
      expect(outcome(quiet)).toEqual({ action: null, title: null, recorded: 1 });
  });

  it('records a Test/Build run (matched by display name, case-insensitively) without alerting, even when it fails', () => {
    for (const name of ['Test/Build', 'test/build']) {
      const d = parseBody(runBody({ name, path: '.github/workflows/ci.yml', conclusion: 'failure' }));
      expect(d.alerts).toEqual([]);
      expect(d.workflowRuns).toMatchObject([
        { workflow_name: name, workflow_path: '.github/workflows/ci.yml', conclusion: 'failure' },
      ]);
    }
  });

  it('matches file names against workflow.path too, and a full path as an entry', () => {
    const body = runBody({ path: '.github/workflows/other.yml', name: 'Other' });
    body.workflow!.path = '.github/workflows/nightly.yml';
    const byWorkflowPath: IntegrationPolicy = {
      ...integration,
      workflows: { alert_on_failure: ['nightly.yml'], record: [] },
    };
    expect(parseBody(body, {}, byWorkflowPath).alerts).toHaveLength(1);
    const byFullPath: IntegrationPolicy = {
      ...integration,
      workflows: { alert_on_failure: [], record: ['.github/workflows/other.yml'] },
    };
    expect(parseBody(body, {}, byFullPath)).toMatchObject({
      alerts: [],
      workflowRuns: [{ workflow_path: '.github/workflows/other.yml' }],
    });
  });

  it('uses the schema defaults when the policy has no workflows block, and they equal the schema defaults', () => {
    const { workflows: _omit, ...bare } = integration;
    expect(parseBody(runBody(), {}, bare as IntegrationPolicy).alerts).toHaveLength(1);
    expect(
      parseBody(
        runBody({ name: 'Real DB parity', path: '.github/workflows/parity.yml' }),
        {},
        bare as IntegrationPolicy,
      ).workflowRuns,
    ).toHaveLength(1);

    const yaml = DEFAULT_POLICY_YAML.replace(/( {4}workflows:\n)(?: {6}.*\n)+/, '    workflows: {}\n');
    expect(yaml).not.toBe(DEFAULT_POLICY_YAML);
    const parsed = parsePolicyText(yaml, 'test');
    expect(parsed.problems).toEqual([]);
    expect(parsed.policy!.integrations.find((i) => i.name === 'github')!.workflows).toEqual(
      DEFAULT_GITHUB_WORKFLOWS,
    );
  });

  it('ping, other events and unfinished runs are accepted and dropped', () => {
    const ping = {
      zen: 'Keep it logically awesome.',
      hook_id: 1,
      hook: { type: 'Repository', events: ['workflow_run'] },
    };
    expect(parseBody(ping, { 'X-GitHub-Event': 'ping', 'X-GitHub-Delivery': undefined })).toEqual({
      alerts: [],
    });
    expect(parseBody({ ref: 'refs/heads/main' }, { 'X-GitHub-Event': 'push' })).toEqual({ alerts: [] });
    for (const action of ['requested', 'in_progress']) {
      expect(parseBody({ action, workflow_run: { id: 1 } })).toEqual({ alerts: [] });
    }
  });

  it('refuses a workflow_run without X-GitHub-Delivery, or without X-GitHub-Event, naming the header', () => {
    const noDelivery = thrown(() => parseBody(runBody(), { 'X-GitHub-Delivery': undefined }));
    expect(noDelivery.code).toBe('invalid_input');
    expect(noDelivery.message).toContain('X-GitHub-Delivery');
    const noEvent = thrown(() => parseBody(runBody(), { 'X-GitHub-Event': undefined }));
    expect(noEvent.code).toBe('invalid_input');
    expect(noEvent.message).toContain('X-GitHub-Event');
  });

  it('refuses wrong types naming the field, and a body that is not JSON', () => {
    const body = runBody();
    body.workflow_run.id = 'not-a-number';
    body.workflow_run.run_attempt = '1';
    const err = thrown(() => parseBody(body));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toContain('workflow_run.id');
    expect(err.message).toContain('workflow_run.run_attempt');
    const notJson = thrown(() =>
      githubAdapter.parse(
        request('{"action":', { 'X-GitHub-Event': 'workflow_run', 'X-GitHub-Delivery': 'x' }),
        integration,
      ),
    );
    expect(notJson.code).toBe('invalid_json');
  });

  it('keeps dedup keys bounded for absurd branch names, still matching the backup-smoke route glob', () => {
    const d = parseBody(runBody({ branch: 'b'.repeat(1000) }));
    const key = d.alerts[0]!.dedup_key;
    expect(key.length).toBeLessThanOrEqual(255);
    expect(key).toMatch(
      /^gh:octo-org\/octo-repo:\.github\/workflows\/backup-restore-smoke\.yml:b+~[0-9a-f]{16}$/,
    );
  });

  it('a run as the REST API lists it (list workflow runs) yields a record with the same fields', () => {
    const run = listRuns.response.body.workflow_runs[0]!;
    const { repository, ...rest } = run as Obj & { repository: { full_name: string } };
    const d = parseBody({ action: 'completed', workflow_run: { ...rest, name: 'Test/Build' }, repository });
    expect(d.workflowRuns).toHaveLength(1);
    const record = d.workflowRuns![0]!;
    expect(record).toMatchObject({
      repo: repository.full_name,
      run_id: String(run.id),
      run_attempt: run.run_attempt,
      run_number: run.run_number,
      workflow_path: run.path,
      head_branch: run.head_branch,
      head_sha: run.head_sha,
      event: run.event,
      status: run.status,
      conclusion: run.conclusion,
      html_url: run.html_url,
      run_started_at: run.run_started_at,
      completed_at: run.updated_at,
    });
  });
});

describe.each(DIALECTS)('POST /hooks/github on %s', (dialect) => {
  let t: TestApp;
  let deliveries = 0;
  beforeAll(async () => {
    t = await startTestApp(dialect, { env: { ...TEST_ENV, GITHUB_WEBHOOK_SECRET: SECRET } });
  });
  afterAll(async () => t.close());

  /** Sends a body signed the way GitHub does (octokit's sign over the exact bytes). */
  const deliver = async (
    body: unknown,
    o: { event?: string; delivery?: string | null; raw?: string; headers?: Record<string, string> } = {},
  ) => {
    const raw = o.raw ?? JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-github-event': o.event ?? 'workflow_run',
      'x-hub-signature-256': await sign(SECRET, raw),
      ...o.headers,
    };
    if (o.delivery !== null) headers['x-github-delivery'] = o.delivery ?? `delivery-${++deliveries}`;
    return t.app.inject({ method: 'POST', url: '/hooks/github', headers, payload: raw });
  };
  const getIncident = async (id: number) =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json();
  const runRows = (runId: string) =>
    t.services.store.db.selectFrom('workflow_runs').selectAll().where('run_id', '=', runId).execute();
  const alertRows = (dedupKey: string) =>
    t.services.store.db.selectFrom('alerts').selectAll().where('dedup_key', '=', dedupKey).execute();

  it('the documented delivery (exact bytes, documented signature) is accepted; its unwatched workflow is ignored', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/hooks/github',
      headers: completed.request.headers,
      payload: Buffer.from(JSON.stringify(completed.request.body)),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', results: [], workflow_runs: 0 });
    expect(await runRows('289782451')).toEqual([]);
    expect(
      await t.services.store.db
        .selectFrom('alerts')
        .selectAll()
        .where('integration', '=', 'github')
        .execute(),
    ).toEqual([]);
  });

  it('one changed byte → 401; no signature → 401', async () => {
    const raw = Buffer.from(JSON.stringify(completed.request.body));
    raw.writeUInt8(raw.readUInt8(raw.length - 2) ^ 1, raw.length - 2);
    const tampered = await t.app.inject({
      method: 'POST',
      url: '/hooks/github',
      headers: completed.request.headers,
      payload: raw,
    });
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json().error.message).toContain('X-Hub-Signature-256');
    const { 'X-Hub-Signature-256': _omit, ...unsigned } = completed.request.headers;
    const missing = await t.app.inject({
      method: 'POST',
      url: '/hooks/github',
      headers: unsigned,
      payload: JSON.stringify(completed.request.body),
    });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.message).toMatch(/missing X-Hub-Signature-256/);
  });

  it('a failed backup-restore-smoke run opens an incident on route backup-smoke; a redelivery is not counted twice', async () => {
    const body = runBody({ id: 1001, branch: 'main' });
    const first = await deliver(body, { delivery: 'gh-delivery-1001' });
    expect(first.statusCode).toBe(202);
    const [result] = first.json().results;
    expect(result).toMatchObject({
      outcome: 'opened',
      dedup_key: `gh:octo-org/octo-repo:${BACKUP_PATH}:main`,
    });
    expect(first.json().workflow_runs).toBe(1);
    const incident = await getIncident(result.incident_id);
    expect(incident).toMatchObject({
      route: 'backup-smoke',
      severity: 'sev2',
      status: 'triggered',
      integration: 'github',
      alert_count: 1,
    });
    expect(incident.title).toBe('backup-restore-smoke.yml failed on main (octo-org/octo-repo)');

    const again = await deliver(body, { delivery: 'gh-delivery-1001' });
    expect(again.statusCode).toBe(202);
    expect(again.json().results).toMatchObject([{ outcome: 'duplicate', incident_id: result.incident_id }]);
    expect((await getIncident(result.incident_id)).alert_count).toBe(1);
    expect(await runRows('1001')).toHaveLength(1);
    expect(await alertRows(result.dedup_key)).toHaveLength(1);

    // The next successful run of the same workflow on the same branch resolves it.
    const success = await deliver(runBody({ id: 1002, branch: 'main', conclusion: 'success' }));
    expect(success.statusCode).toBe(202);
    expect(success.json().results).toMatchObject([{ outcome: 'resolved', incident_id: result.incident_id }]);
    expect(await getIncident(result.incident_id)).toMatchObject({
      status: 'resolved',
      resolved_by: 'integration:github',
    });
    expect(await runRows('1002')).toMatchObject([
      { conclusion: 'success', source: 'webhook', workflow_path: BACKUP_PATH },
    ]);
  });

  it('a Test/Build success is stored as a workflow_runs row with no incident', async () => {
    const res = await deliver(
      runBody({ id: 2001, name: 'Test/Build', path: '.github/workflows/ci.yml', conclusion: 'success' }),
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', results: [], workflow_runs: 1 });
    expect(await runRows('2001')).toMatchObject([
      { workflow_name: 'Test/Build', conclusion: 'success', repo: 'octo-org/octo-repo' },
    ]);
    expect(await alertRows('gh:octo-org/octo-repo:.github/workflows/ci.yml:main')).toEqual([]);
  });

  it('an unwatched workflow run is ignored: no workflow_runs row, no alert', async () => {
    const res = await deliver(
      runBody({ id: 3001, name: 'Lint', path: '.github/workflows/lint.yml', conclusion: 'failure' }),
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', results: [], workflow_runs: 0 });
    expect(await runRows('3001')).toEqual([]);
    expect(await alertRows('gh:octo-org/octo-repo:.github/workflows/lint.yml:main')).toEqual([]);
  });

  it('ping and unfinished runs → 202 with nothing stored; no X-GitHub-Delivery → 400 naming it', async () => {
    const ping = await deliver({ zen: 'Design for failure.', hook_id: 7 }, { event: 'ping', delivery: null });
    expect(ping.statusCode).toBe(202);
    expect(ping.json()).toEqual({ status: 'accepted', results: [], workflow_runs: 0 });
    const inProgress = await deliver(runBody({ id: 4001, action: 'in_progress', conclusion: null }));
    expect(inProgress.json()).toEqual({ status: 'accepted', results: [], workflow_runs: 0 });
    expect(await runRows('4001')).toEqual([]);
    const noDelivery = await deliver(runBody({ id: 4002 }), { delivery: null });
    expect(noDelivery.statusCode).toBe(400);
    expect(noDelivery.json().error.message).toContain('X-GitHub-Delivery');
  });

  it('Unicode, a 100 KB field, missing optional fields and unknown extra fields → 202; wrong types → 400 naming the field', async () => {
    const unicode = runBody({ id: 5001, branch: 'release/été-🚀-発行' });
    unicode.workflow_run.display_title = 'Ünïcödé ✓ — 日本語 \u202e';
    const u = await deliver(unicode);
    expect(u.statusCode).toBe(202);
    expect(u.json().results[0].outcome).toBe('opened');
    expect((await getIncident(u.json().results[0].incident_id)).title).toBe(
      'backup-restore-smoke.yml failed on release/été-🚀-発行 (octo-org/octo-repo)',
    );

    const big = runBody({ id: 5002, branch: 'big' });
    big.workflow_run.name = 'n'.repeat(100_000);
    big.workflow_run.head_commit!.message = 'm'.repeat(100_000);
    big.workflow_run.display_title = 'd'.repeat(100_000);
    const b = await deliver(big);
    expect(b.statusCode).toBe(202);
    expect(b.json().results[0].outcome).toBe('opened');

    const minimal = runBody({ id: 5003, branch: 'minimal' });
    for (const key of [
      'run_number',
      'head_sha',
      'event',
      'display_title',
      'actor',
      'run_started_at',
      'head_commit',
      'triggering_actor',
    ]) {
      delete minimal.workflow_run[key];
    }
    delete minimal.workflow;
    const m = await deliver(minimal);
    expect(m.statusCode).toBe(202);
    expect(await runRows('5003')).toMatchObject([{ run_number: null, head_sha: null, run_started_at: null }]);

    const extra = runBody({ id: 5004, branch: 'extra' });
    extra.brand_new_field = { nested: [1, 2, 3] };
    extra.workflow_run.future_field = 'x';
    expect((await deliver(extra)).statusCode).toBe(202);

    const wrong = runBody({ id: 5005 });
    wrong.workflow_run.head_branch = 42;
    wrong.repository.full_name = ['octo'];
    const w = await deliver(wrong);
    expect(w.statusCode).toBe(400);
    expect(w.json().error.message).toContain('workflow_run.head_branch');
    expect(w.json().error.message).toContain('repository.full_name');
    expect((await deliver(undefined, { raw: '{"action": "completed", ' })).statusCode).toBe(400);
  });

  it('secret unset → 401 naming GITHUB_WEBHOOK_SECRET', async () => {
    const bare = await startTestApp(dialect);
    try {
      const res = await bare.app.inject({
        method: 'POST',
        url: '/hooks/github',
        headers: completed.request.headers,
        payload: JSON.stringify(completed.request.body),
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('GITHUB_WEBHOOK_SECRET');
    } finally {
      await bare.close();
    }
  });
});

/**
 * GitHub custom deployment protection rule, end to end on SQLite and PostgreSQL: a signed
 * `deployment_protection_rule` delivery is answered 202 at once, then the gate's answer is POSTed to its
 * `deployment_callback_url` — here a local HTTP server standing in for GitHub's API — as `rejected` with the
 * reasons while blocked, `approved` while passing (or overridden). Retries on 5xx, gives up on 4xx, never sends
 * the token off the configured API origin, and audits every outcome.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import { DeploymentReviewService } from '../../src/services/deployment-review.js';
import { upsertWorkflowRun } from '../../src/store/workflow-runs-repo.js';
import { DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/integrations');
const fixture = JSON.parse(
  fs.readFileSync(path.join(FIXTURES, 'github-deployment-protection-rule.json'), 'utf8'),
) as { _secret: string; request: { body: Record<string, unknown> } };
const CALLBACK_PATH = '/repos/octo-org/octo-repo/actions/runs/289782999/deployment_protection_rule';
const INSTALLATION_TOKEN = 'ghs_test_installation_token_0123456789';

interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: { environment_name: string; state: string; comment: string };
}

/** GitHub's API, as far as the callback goes: records each POST and answers with the next queued status. */
class GitHubStandIn {
  readonly received: Received[] = [];
  /** Statuses to answer with, in order; 204 (GitHub's success) once empty. */
  statuses: number[] = [];
  /** While set, answers wait for it (to prove the webhook was answered before the callback finished). */
  hold: Promise<void> | null = null;
  private waiters: ((r: Received) => void)[] = [];
  private server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (c: string) => (raw += c));
    req.on('end', async () => {
      const got = { method: req.method!, path: req.url!, headers: req.headers, body: JSON.parse(raw) };
      this.received.push(got);
      this.waiters.shift()?.(got);
      if (this.hold) await this.hold;
      const status = this.statuses.shift() ?? 204;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 204 ? '' : JSON.stringify({ message: `stand-in says ${status}` }));
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  /** The next request to arrive (call before causing it). */
  next(): Promise<Received> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe.each(DIALECTS)('deployment protection rule on %s', (dialect) => {
  const github = new GitHubStandIn();
  let t: TestApp;

  beforeAll(async () => {
    await github.start();
    const base = loadPolicy({});
    t = await startTestApp(dialect, {
      policy: { ...base, github: { ...base.github, api_url: github.url } },
      env: { ...TEST_ENV, GITHUB_WEBHOOK_SECRET: fixture._secret, GITHUB_TOKEN: INSTALLATION_TOKEN },
    });
  });
  afterAll(async () => {
    await t.close();
    await github.stop();
  });

  function deliver(callbackUrl = github.url + CALLBACK_PATH) {
    const raw = JSON.stringify({ ...fixture.request.body, deployment_callback_url: callbackUrl });
    const signature = 'sha256=' + crypto.createHmac('sha256', fixture._secret).update(raw).digest('hex');
    return t.app.inject({
      method: 'POST',
      url: '/hooks/github',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'deployment_protection_rule',
        'x-github-delivery': crypto.randomUUID(),
        'x-hub-signature-256': signature,
      },
      payload: raw,
    });
  }

  async function lastReviewAudit() {
    await t.services.deploymentReviews.drain();
    const entries = await t.services.audit.list();
    return entries.filter((e) => e.action === 'gate.deployment_review').at(-1)!;
  }

  it('while blocked: 202 at once, then "rejected" with every failing reason, with the installation token', async () => {
    let release!: () => void;
    github.hold = new Promise((r) => (release = r));
    const arrived = github.next();
    const res = await deliver();
    // The webhook is answered while GitHub's stand-in has not answered the callback yet.
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'accepted', deployment_reviews: 1 });
    const call = await arrived;
    release();
    github.hold = null;

    expect(call.method).toBe('POST');
    expect(call.path).toBe(CALLBACK_PATH);
    expect(call.headers.authorization).toBe(`Bearer ${INSTALLATION_TOKEN}`);
    expect(call.headers.accept).toBe('application/vnd.github+json');
    expect(call.body.environment_name).toBe('production');
    expect(call.body.state).toBe('rejected');
    expect(call.body.comment.split('\n')).toEqual([
      'Guardia release gate: blocked',
      '✗ Latest weekly backup-restore smoke success: no completed run of backup-restore-smoke.yml recorded on main',
      '✗ Latest real DB parity success: no completed run of Real DB parity recorded on main',
      '✓ No open Sev-1: no open sev1 incident',
    ]);

    const audit = await lastReviewAudit();
    expect(audit).toMatchObject({
      actor: 'integration:github',
      data: {
        outcome: 'posted',
        state: 'rejected',
        http_status: 204,
        attempts: 1,
        environment: 'production',
      },
    });
    const decision = await t.services.store.db
      .selectFrom('gate_decisions')
      .selectAll()
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(decision).toMatchObject({ source: 'github', actor: 'integration:github', result: 'blocked' });
    expect(JSON.parse(decision.context)).toMatchObject({
      environment: 'production',
      repo: 'octo-org/octo-repo',
      sha: '3484a3fb816e0859fd6e1cea078d76385ff50625',
    });
    expect(audit.subject).toBe(`decision:${decision.id}`);
  });

  it('while overridden: "approved", and the comment names the override', async () => {
    const o = await t.services.gate.createOverride({
      reason: 'hotfix',
      requested_by: 'token:alice',
      approved_by: 'bob',
      expires_at: new Date(t.clock.now().getTime() + 3_600_000),
    });
    const arrived = github.next();
    expect((await deliver()).statusCode).toBe(202);
    const call = await arrived;
    expect(call.body.state).toBe('approved');
    expect(call.body.comment).toContain(
      `Overridden: override #${o.id} requested by token:alice, approved by bob`,
    );
    await t.services.gate.revokeOverride(o.id, 'token:admin');
    await t.services.deploymentReviews.drain();
  });

  it('while passing: "approved"', async () => {
    const now = t.clock.now().getTime();
    let n = 0;
    for (const [pathName, name] of [
      ['.github/workflows/backup-restore-smoke.yml', 'Backup restore smoke'],
      ['.github/workflows/parity.yml', 'Real DB parity'],
    ] as const) {
      await upsertWorkflowRun(
        t.services.store.db,
        {
          repo: 'octo-org/octo-repo',
          run_id: String(90 + ++n),
          run_attempt: 1,
          run_number: n,
          workflow_path: pathName,
          workflow_name: name,
          head_branch: 'main',
          head_sha: null,
          event: 'schedule',
          status: 'completed',
          conclusion: 'success',
          html_url: `https://github.com/octo-org/octo-repo/actions/runs/${90 + n}`,
          run_started_at: null,
          completed_at: new Date(now - 3_600_000).toISOString(),
          source: 'webhook',
        },
        new Date(now).toISOString(),
      );
    }
    const arrived = github.next();
    expect((await deliver()).statusCode).toBe(202);
    const call = await arrived;
    expect(call.body.state).toBe('approved');
    expect(call.body.comment).toMatch(/^Guardia release gate: pass\n✓ /);
    expect((await lastReviewAudit()).data).toMatchObject({ outcome: 'posted', state: 'approved' });
  });

  it('retries a 502 and posts on the second attempt', async () => {
    github.statuses = [502];
    const before = github.received.length;
    expect((await deliver()).statusCode).toBe(202);
    const audit = await lastReviewAudit();
    expect(audit.data).toMatchObject({ outcome: 'posted', http_status: 204, attempts: 2 });
    expect(github.received.length - before).toBe(2);
  });

  it("does not retry a 422; the failure and GitHub's message are in the audit log", async () => {
    github.statuses = [422];
    const before = github.received.length;
    expect((await deliver()).statusCode).toBe(202);
    const audit = await lastReviewAudit();
    expect(audit.data).toMatchObject({
      outcome: 'failed',
      http_status: 422,
      attempts: 1,
      error: 'HTTP 422: stand-in says 422',
    });
    expect(github.received.length - before).toBe(1);
  });

  it('never sends the token to a callback URL off github.api_url', async () => {
    const before = github.received.length;
    expect((await deliver('https://attacker.example.com' + CALLBACK_PATH)).statusCode).toBe(202);
    const audit = await lastReviewAudit();
    expect(audit.data).toMatchObject({ outcome: 'failed', attempts: 0 });
    expect(String(audit.data.error)).toContain('not on github.api_url');
    expect(github.received.length).toBe(before);
  });

  it('without a token nothing is posted, and the audit entry says which variable to set', async () => {
    const service = new DeploymentReviewService(t.services.gate, t.services.audit, t.policy, {});
    const outcome = await service.review(
      {
        environment: 'production',
        callback_url: github.url + CALLBACK_PATH,
        repo: 'octo-org/octo-repo',
        sha: null,
        ref: null,
        event: null,
        deployment_id: null,
        installation_id: null,
        delivery_id: null,
      },
      'integration:github',
    );
    expect(outcome).toMatchObject({ outcome: 'failed', attempts: 0 });
    expect(outcome.error).toContain('set GITHUB_TOKEN');
    expect((await lastReviewAudit()).data).toMatchObject({ outcome: 'failed', error: outcome.error });
    expect((await t.services.audit.verify()).ok).toBe(true);
  });
});

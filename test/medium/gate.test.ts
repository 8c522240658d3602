/**
 * The release gate through the HTTP API on SQLite and PostgreSQL: every decision is recorded (a gate_decisions
 * row and an audit entry), the newest release-branch run decides, an open (even mitigated) sev1 blocks, and the
 * override flow — refused for self-approval and beyond 24 h, applied while active, gone once expired or revoked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowRunRecord } from '../../src/store/workflow-runs-repo.js';
import { upsertWorkflowRun } from '../../src/store/workflow-runs-repo.js';
import { bearer, DIALECTS, startTestApp, type TestApp } from '../helpers/harness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(DIALECTS)('release gate API on %s', (dialect) => {
  let t: TestApp;
  let runId = 5000;
  beforeAll(async () => {
    t = await startTestApp(dialect, { now: '2026-11-27T10:00:00.000Z' });
  });
  afterAll(async () => t.close());

  const gate = (token = t.tokens.viewer) =>
    t.app.inject({ method: 'GET', url: '/api/v1/gate', headers: bearer(token) });
  const post = (url: string, payload: object | undefined, token: string) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });

  /** Records a completed run that finished `agoMs` before the fake clock's now. */
  async function recordRun(
    workflow: 'smoke' | 'parity',
    conclusion: string,
    agoMs: number,
    branch = 'main',
  ): Promise<WorkflowRunRecord> {
    runId += 1;
    const run: WorkflowRunRecord = {
      repo: 'octo-org/octo-repo',
      run_id: String(runId),
      run_attempt: 1,
      run_number: runId,
      workflow_path:
        workflow === 'smoke' ? '.github/workflows/backup-restore-smoke.yml' : '.github/workflows/parity.yml',
      workflow_name: workflow === 'smoke' ? 'Backup restore smoke' : 'Real DB parity',
      head_branch: branch,
      head_sha: 'abc123',
      event: 'schedule',
      status: 'completed',
      conclusion,
      html_url: `https://github.com/octo-org/octo-repo/actions/runs/${runId}`,
      run_started_at: new Date(t.clock.now().getTime() - agoMs - 60_000).toISOString(),
      completed_at: new Date(t.clock.now().getTime() - agoMs).toISOString(),
      source: 'webhook',
    };
    await upsertWorkflowRun(t.services.store.db, run, t.clock.now().toISOString());
    return run;
  }

  const failing = (body: { checks: { id: string; status: string }[] }) =>
    body.checks.filter((c) => c.status === 'fail').map((c) => c.id);

  it('with no evidence at all the gate is blocked; the decision is recorded and audited in one go', async () => {
    const res = await gate();
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ result: 'blocked', evaluated_at: '2026-11-27T10:00:00.000Z' });
    expect(failing(body)).toEqual(['backup-restore-smoke', 'real-db-parity']);
    expect(body.checks[0].reason).toBe('no completed run of backup-restore-smoke.yml recorded on main');

    const row = await t.services.store.db
      .selectFrom('gate_decisions')
      .selectAll()
      .where('id', '=', body.decision_id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      result: 'blocked',
      source: 'api',
      actor: 'token:viewer-bot',
      override_id: null,
    });
    expect(JSON.parse(row.checks)).toEqual(body.checks);
    expect(JSON.parse(row.context)).toMatchObject({ request_id: expect.any(String) });

    const entries = await t.services.audit.list();
    expect(entries.at(-1)).toMatchObject({
      action: 'gate.decision',
      subject: `decision:${body.decision_id}`,
      actor: 'token:viewer-bot',
      data: { result: 'blocked', source: 'api', failing: ['backup-restore-smoke', 'real-db-parity'] },
    });
    expect((await t.services.audit.verify()).ok).toBe(true);
  });

  it('needs a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/gate' });
    expect(res.statusCode).toBe(401);
  });

  it('passes once the smoke and parity runs on main are green', async () => {
    await recordRun('smoke', 'success', 2 * DAY);
    await recordRun('parity', 'success', 3 * HOUR);
    const body = (await gate()).json();
    expect(body.result).toBe('pass');
    expect(body.checks[0]).toMatchObject({
      status: 'pass',
      link: expect.stringMatching(/^https:\/\/github.com\/octo-org\/octo-repo\/actions\/runs\/\d+$/),
    });
  });

  it('a red feature branch does not block; a red newest run on main does, naming the last success', async () => {
    await recordRun('parity', 'failure', HOUR, 'feature/x');
    expect((await gate()).json().result).toBe('pass');
    const red = await recordRun('parity', 'failure', HOUR);
    const body = (await gate()).json();
    expect(body.result).toBe('blocked');
    expect(body.checks[1]).toMatchObject({
      status: 'fail',
      link: red.html_url,
      reason: expect.stringContaining('concluded failure; last success 3 hours ago'),
    });
    await recordRun('parity', 'success', 10 * 60_000);
    expect((await gate()).json().result).toBe('pass');
  });

  it('the smoke success turns stale after 7 days', async () => {
    // The smoke success is 2 days old: 6 days old still passes, 8 days old blocks.
    t.clock.advance(4 * DAY);
    expect((await gate()).json().result).toBe('pass');
    t.clock.advance(2 * DAY);
    const body = (await gate()).json();
    expect(body.result).toBe('blocked');
    expect(body.checks[0].reason).toMatch(
      /^last success 8 days ago \(2026-11-25T10:00:00.000Z\), older than 7d$/,
    );
    await recordRun('smoke', 'success', HOUR);
    await recordRun('parity', 'success', HOUR);
    expect((await gate()).json().result).toBe('pass');
  });

  it('a sev1 blocks while acknowledged and mitigated, and no longer once resolved', async () => {
    const declared = await post(
      '/api/v1/incidents',
      { title: 'Checkout down', severity: 'sev1' },
      t.tokens.responder,
    );
    const { id } = declared.json();
    let body = (await gate()).json();
    expect(failing(body)).toEqual(['no-open-sev1']);
    expect(body.checks[2].link).toBe(`/api/v1/incidents/${id}`);
    await post(`/api/v1/incidents/${id}/mitigate`, undefined, t.tokens.responder);
    body = (await gate()).json();
    expect(body.checks[2].reason).toBe(`1 open sev1 incident: #${id} "Checkout down" (mitigated)`);
    await post(`/api/v1/incidents/${id}/resolve`, undefined, t.tokens.responder);
    expect((await gate()).json().result).toBe('pass');
  });

  describe('overrides', () => {
    let overrideId: number;

    beforeAll(async () => {
      // Block the gate again: an open sev1.
      await post('/api/v1/incidents', { title: 'Payments down', severity: 'sev1' }, t.tokens.responder);
    });

    it('a viewer may not create one', async () => {
      const res = await post(
        '/api/v1/gate/overrides',
        { reason: 'x', approver: 'bob', expires_in: '1h' },
        t.tokens.viewer,
      );
      expect(res.statusCode).toBe(403);
    });

    it('is refused when the approver is the requester (the token identity), naming the field', async () => {
      const res = await post(
        '/api/v1/gate/overrides',
        { reason: 'hotfix', approver: 'Alice', expires_in: '4h' },
        t.tokens.responder,
      );
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        code: 'invalid_input',
        message: 'approver: the approver must be someone other than the requester (token:alice)',
      });
    });

    it('is refused beyond 24 h, and without an expiry', async () => {
      const long = await post(
        '/api/v1/gate/overrides',
        { reason: 'hotfix', approver: 'bob', expires_in: '25h' },
        t.tokens.responder,
      );
      expect(long.statusCode).toBe(400);
      expect(long.json().error.message).toContain('at most 24h');
      const none = await post(
        '/api/v1/gate/overrides',
        { reason: 'hotfix', approver: 'bob' },
        t.tokens.responder,
      );
      expect(none.statusCode).toBe(400);
      expect(none.json().error.message).toContain('expires_at');
    });

    it('is created, audited, and turns the blocked gate into overridden', async () => {
      const res = await post(
        '/api/v1/gate/overrides',
        { reason: 'security hotfix', approver: 'bob', expires_in: '4h' },
        t.tokens.responder,
      );
      expect(res.statusCode).toBe(201);
      const created = res.json();
      overrideId = created.id;
      expect(created).toMatchObject({
        reason: 'security hotfix',
        requested_by: 'token:alice',
        approved_by: 'bob',
        state: 'active',
        expires_at: new Date(t.clock.now().getTime() + 4 * HOUR).toISOString(),
      });
      const entries = await t.services.audit.list();
      expect(entries.at(-1)).toMatchObject({
        action: 'gate.override',
        subject: `override:${overrideId}`,
        actor: 'token:alice',
        data: { reason: 'security hotfix', approved_by: 'bob' },
      });

      const body = (await gate()).json();
      expect(body.result).toBe('overridden');
      expect(failing(body)).toEqual(['no-open-sev1']);
      expect(body.override).toMatchObject({ id: overrideId, approved_by: 'bob' });
      const row = await t.services.store.db
        .selectFrom('gate_decisions')
        .select('override_id')
        .where('id', '=', body.decision_id)
        .executeTakeFirstOrThrow();
      expect(Number(row.override_id)).toBe(overrideId);

      const list = await t.app.inject({
        method: 'GET',
        url: '/api/v1/gate/overrides?status=active',
        headers: bearer(t.tokens.viewer),
      });
      expect(list.json().overrides.map((o: { id: number }) => o.id)).toEqual([overrideId]);
    });

    it('no longer applies once expired', async () => {
      t.clock.advance(4 * HOUR);
      expect((await gate()).json().result).toBe('blocked');
      const list = await t.app.inject({
        method: 'GET',
        url: '/api/v1/gate/overrides',
        headers: bearer(t.tokens.viewer),
      });
      expect(list.json().overrides[0]).toMatchObject({ id: overrideId, state: 'expired' });
      const revoke = await post(`/api/v1/gate/overrides/${overrideId}/revoke`, undefined, t.tokens.admin);
      expect(revoke.statusCode).toBe(409);
    });

    it('can be revoked by an admin only; the gate blocks again and the revocation is audited', async () => {
      const { id } = (
        await post(
          '/api/v1/gate/overrides',
          {
            reason: 'release train',
            approver: 'carol',
            expires_at: new Date(t.clock.now().getTime() + HOUR).toISOString(),
          },
          t.tokens.responder,
        )
      ).json();
      expect((await gate()).json().result).toBe('overridden');
      expect(
        (await post(`/api/v1/gate/overrides/${id}/revoke`, undefined, t.tokens.responder)).statusCode,
      ).toBe(403);
      const revoked = await post(`/api/v1/gate/overrides/${id}/revoke`, undefined, t.tokens.admin);
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json()).toMatchObject({ id, state: 'revoked', revoked_by: 'token:admin' });
      expect((await gate()).json().result).toBe('blocked');
      const again = await post(`/api/v1/gate/overrides/${id}/revoke`, undefined, t.tokens.admin);
      expect(again.statusCode).toBe(409);
      expect(again.json().error.message).toContain('already revoked by token:admin');
      expect((await post('/api/v1/gate/overrides/999/revoke', undefined, t.tokens.admin)).statusCode).toBe(
        404,
      );
      const actions = (await t.services.audit.list()).map((e) => e.action);
      expect(actions).toContain('gate.override.revoked');
      expect((await t.services.audit.verify()).ok).toBe(true);
    });
  });
});

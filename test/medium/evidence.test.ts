/**
 * The evidence ledger through the HTTP API on SQLite and PostgreSQL: manual evidence with an attachment, weekly
 * incident reviews with and without incidents, and the status per period (a past week's hole stays visible).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertWorkflowRun } from '../../src/store/workflow-runs-repo.js';
import { bearer, DIALECTS, startTestApp, type TestApp } from '../helpers/harness.js';

// The harness clock starts on Friday 2026-11-27 10:00 UTC (ISO week 2026-W48); the default policy zone is UTC.
describe.each(DIALECTS)('evidence API on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(async () => t.close());

  const post = (url: string, body: unknown, token = t.tokens.responder) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), payload: body as object });
  const get = (url: string, token = t.tokens.viewer) =>
    t.app.inject({ method: 'GET', url, headers: bearer(token) });

  const pdf = Buffer.from('%PDF-1.4\nAccess review 2026-11: 14 accounts, 2 removed.\n%%EOF\n');

  it('records manual evidence with an attachment (current month by default), audited, downloadable', async () => {
    const res = await post('/api/v1/evidence', {
      requirement_id: 'access-review',
      status: 'success',
      summary: 'Production DB and server accounts reviewed; 2 removed',
      links: [{ href: 'https://wiki.example.com/access-review/2026-11', text: 'review notes' }],
      attachments: [
        {
          filename: 'access-review.pdf',
          content_type: 'application/pdf',
          content_base64: pdf.toString('base64'),
        },
      ],
    });
    expect(res.statusCode).toBe(201);
    const record = res.json();
    const sha256 = crypto.createHash('sha256').update(pdf).digest('hex');
    expect(record).toMatchObject({
      requirement_id: 'access-review',
      period: '2026-11',
      status: 'success',
      source: 'manual',
      recorded_by: 'token:alice',
      recorded_at: '2026-11-27T10:00:00.000Z',
      attachments: [
        { filename: 'access-review.pdf', content_type: 'application/pdf', size: pdf.length, sha256 },
      ],
    });

    const file = await get(record.attachments[0].url);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toContain('attachment');
    expect(file.rawPayload.equals(pdf)).toBe(true);

    const entries = await t.services.audit.list();
    expect(entries.at(-1)).toMatchObject({
      actor: 'token:alice',
      action: 'evidence.record',
      subject: `evidence:${record.id}`,
      data: {
        requirement_id: 'access-review',
        period: '2026-11',
        attachments: [expect.objectContaining({ sha256 })],
      },
    });
    expect((await t.services.audit.verify()).ok).toBe(true);
  });

  it.each([
    [
      { requirement_id: 'nope', status: 'success', summary: 'x' },
      'requirement_id',
      'no evidence requirement "nope"',
    ],
    [
      { requirement_id: 'backup-restore-smoke', status: 'success', summary: 'x' },
      'requirement_id',
      'not recorded by hand',
    ],
    [
      { requirement_id: 'dr-drill', period: '2026-W48', status: 'success', summary: 'x' },
      'period',
      'recorded for a month',
    ],
    [
      { requirement_id: 'dr-drill', period: '2026-12', status: 'success', summary: 'x' },
      'period',
      'has not started',
    ],
    [
      { requirement_id: 'dr-drill', period: 'last month', status: 'success', summary: 'x' },
      'period',
      'is not a period',
    ],
    [{ requirement_id: 'dr-drill', status: 'ok', summary: 'x' }, 'status', ''],
    [
      {
        requirement_id: 'dr-drill',
        status: 'success',
        summary: 'x',
        attachments: [{ filename: '../etc/passwd', content_base64: 'eA==' }],
      },
      'attachments.0.filename',
      'plain file name',
    ],
    [
      {
        requirement_id: 'dr-drill',
        status: 'success',
        summary: 'x',
        attachments: [{ filename: 'a.txt', content_base64: 'not base64!' }],
      },
      'attachments.0.content_base64',
      'base64',
    ],
  ])('refuses %j naming the field', async (body, field, message) => {
    const res = await post('/api/v1/evidence', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining(message),
      details: { issues: [expect.objectContaining({ field })] },
    });
  });

  it('refuses an attachment over 10 MiB (413) and a viewer (403)', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61).toString('base64');
    const res = await post('/api/v1/evidence', {
      requirement_id: 'dr-drill',
      status: 'success',
      summary: 'x',
      attachments: [{ filename: 'big.txt', content_base64: big }],
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.message).toContain('10 MiB');
    const viewer = await post(
      '/api/v1/evidence',
      { requirement_id: 'dr-drill', status: 'success', summary: 'x' },
      t.tokens.viewer,
    );
    expect(viewer.statusCode).toBe(403);
  });

  it('records a weekly review with no incidents: "No incidents"', async () => {
    const res = await post('/api/v1/evidence/reviews', {
      week: '2026-W47',
      note: 'Reviewed by Ana and Luis: quiet week',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      requirement_id: 'incident-review',
      period: '2026-W47',
      status: 'recorded',
      source: 'review',
      summary: 'No incidents',
      data: { note: 'Reviewed by Ana and Luis: quiet week', week: '2026-W47', incidents: [] },
    });
  });

  it("a weekly review attaches the week's incidents with their SLA outcomes", async () => {
    // One sev1 in W48 acknowledged late (ack target 5 min), one sev2 started the week before (not this review's).
    const sev1 = (
      await post('/api/v1/incidents', {
        title: 'Checkout down',
        severity: 'sev1',
        started_at: '2026-11-24T08:00:00Z',
      })
    ).json();
    await post('/api/v1/incidents', {
      title: 'Old one',
      severity: 'sev2',
      started_at: '2026-11-22T23:00:00Z',
    });
    await post(`/api/v1/incidents/${sev1.id}/resolve`, {});
    const res = await post('/api/v1/evidence/reviews', {
      note: 'Postmortem for the checkout outage scheduled',
    });
    expect(res.statusCode).toBe(201);
    const review = res.json();
    expect(review.period).toBe('2026-W48'); // the current week by default
    expect(review.summary).toBe('1 incident (1 sev1); 1 with an SLA breach');
    expect(review.data.incidents).toEqual([
      expect.objectContaining({
        id: sev1.id,
        title: 'Checkout down',
        severity: 'sev1',
        status: 'resolved',
        sla: {
          ack: { due_at: '2026-11-24T08:05:00.000Z', done_at: '2026-11-27T10:00:00.000Z', state: 'breached' },
          mitigate: {
            due_at: '2026-11-24T08:30:00.000Z',
            done_at: '2026-11-27T10:00:00.000Z',
            state: 'breached',
          },
        },
      }),
    ]);
    const future = await post('/api/v1/evidence/reviews', { week: '2026-W50', note: 'x' });
    expect(future.statusCode).toBe(400);
    expect(future.json().error.details.issues[0].field).toBe('week');
  });

  it('status per period: a closed week keeps its holes, the current week is pending, links included', async () => {
    await upsertWorkflowRun(
      t.services.store.db,
      {
        repo: 'acme/app',
        run_id: '501',
        run_attempt: 1,
        run_number: 77,
        workflow_path: '.github/workflows/backup-restore-smoke.yml',
        workflow_name: 'Backup restore smoke',
        head_branch: 'main',
        head_sha: null,
        event: 'schedule',
        status: 'completed',
        conclusion: 'success',
        html_url: 'https://github.com/acme/app/actions/runs/501',
        run_started_at: '2026-11-26T03:00:00.000Z',
        completed_at: '2026-11-26T03:12:00.000Z',
        source: 'webhook',
      },
      '2026-11-26T03:12:01.000Z',
    );
    const res = await get('/api/v1/evidence?period=2026-W47,2026-W48,2026-11');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const states = (i: number) =>
      Object.fromEntries(
        body.periods[i].requirements.map((r: { id: string; state: string }) => [r.id, r.state]),
      );
    expect(body.time_zone).toBe('UTC');
    expect(body.periods.map((p: { period: string; closed: boolean }) => [p.period, p.closed])).toEqual([
      ['2026-W47', true],
      ['2026-W48', false],
      ['2026-11', false],
    ]);
    expect(states(0)).toEqual({
      'ci-test-build': 'missing',
      'ci-real-db-parity': 'missing',
      'backup-restore-smoke': 'missing',
      'incident-review': 'met',
    });
    expect(states(1)).toEqual({
      'ci-test-build': 'pending',
      'ci-real-db-parity': 'pending',
      'backup-restore-smoke': 'met',
      'incident-review': 'met',
    });
    expect(states(2)).toEqual({
      'secret-rotation-audit': 'pending',
      'access-review': 'met',
      'dr-drill': 'pending',
    });
    const smoke = body.periods[1].requirements.find((r: { id: string }) => r.id === 'backup-restore-smoke');
    expect(smoke.evidence[0]).toMatchObject({
      type: 'workflow_run',
      url: 'https://github.com/acme/app/actions/runs/501',
    });

    // Saturday noon: less than the policy's 2 days left in the week.
    t.clock.set('2026-11-28T12:00:00.000Z');
    const later = (await get('/api/v1/evidence')).json();
    expect(later.periods.map((p: { period: string }) => p.period)).toEqual(['2026-W48', '2026-11']);
    expect(later.periods[0].requirements.find((r: { id: string }) => r.id === 'ci-test-build').state).toBe(
      'due_soon',
    );
    t.clock.set('2026-11-27T10:00:00.000Z');

    const junk = await get('/api/v1/evidence?period=2026-W99');
    expect(junk.statusCode).toBe(400);
    expect(junk.json().error.message).toContain('week 99 does not exist');
  });
});

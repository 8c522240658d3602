/**
 * The incident loop through the HTTP API, run on SQLite and on PostgreSQL (the same suite on every store).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, DIALECTS, startTestApp, type TestApp } from '../helpers/harness.js';

describe.each(DIALECTS)('incident API on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(async () => t.close());

  const declare = (body: unknown, token = t.tokens.responder) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: bearer(token),
      payload: body as object,
    });

  it('declares a sev1 with the runbook deadlines (ack 5 min, mitigation 30 min)', async () => {
    const res = await declare({
      title: 'Checkout down',
      severity: 'sev1',
      started_at: '2026-11-27T10:00:00Z',
    });
    expect(res.statusCode).toBe(201);
    const incident = res.json();
    expect(incident).toMatchObject({
      title: 'Checkout down',
      severity: 'sev1',
      status: 'triggered',
      started_at: '2026-11-27T10:00:00.000Z',
      ack_due_at: '2026-11-27T10:05:00.000Z',
      mitigate_due_at: '2026-11-27T10:30:00.000Z',
      sla: { ack: { state: 'pending' }, mitigate: { state: 'pending' } },
    });
  });

  it('a sev3 started Friday 17:00 is due to be mitigated Monday 17:00 (1 business day)', async () => {
    // Default calendar: UTC, Mon-Fri 09:00-18:00. 2026-11-27 is a Friday.
    const res = await declare({
      title: 'Slow reports',
      severity: 'sev3',
      started_at: '2026-11-27T09:30:00Z',
    });
    expect(res.json().mitigate_due_at).toBe('2026-11-30T09:30:00.000Z');
    t.clock.set('2026-11-27T17:00:00.000Z');
    const friday = await declare({ title: 'Slow exports', severity: 'sev3' });
    expect(friday.json().mitigate_due_at).toBe('2026-11-30T17:00:00.000Z');
    expect(friday.json().ack_due_at).toBe('2026-11-27T21:00:00.000Z');
    t.clock.set('2026-11-27T10:00:00.000Z');
  });

  it('walks acknowledge → mitigate → resolve, with a timeline naming each actor', async () => {
    const { id } = (await declare({ title: 'Login loop', severity: 'sev2' })).json();
    t.clock.advance(3 * 60_000);
    const ack = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: bearer(t.tokens.responder),
    });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({
      status: 'acknowledged',
      acknowledged_by: 'token:alice',
      sla: { ack: { state: 'met' } },
    });

    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: bearer(t.tokens.responder),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'invalid_transition' });
    expect(again.json().error.message).toContain('already acknowledged by token:alice');

    t.clock.advance(10 * 60_000);
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/mitigate`,
      headers: bearer(t.tokens.responder),
      payload: { note: 'rolled back' },
    });
    const resolved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/resolve`,
      headers: bearer(t.tokens.admin),
    });
    expect(resolved.json()).toMatchObject({
      status: 'resolved',
      resolved_by: 'token:admin',
      mitigation_implied: false,
    });

    const shown = (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json();
    // State changes in order; the engine's entries (escalation plan, escalation stopped) sit between them.
    const states = ['declared', 'acknowledged', 'mitigated', 'resolved'];
    expect(
      shown.timeline.map((e: { kind: string }) => e.kind).filter((k: string) => states.includes(k)),
    ).toEqual(['declared', 'acknowledged', 'mitigated', 'resolved']);
    expect(shown.timeline.find((e: { kind: string }) => e.kind === 'mitigated').message).toContain(
      'rolled back',
    );
    t.clock.set('2026-11-27T10:00:00.000Z');
  });

  it('resolving an unacknowledged incident marks ack and mitigation as implied', async () => {
    const { id } = (await declare({ title: 'Flaky alert', severity: 'sev3' })).json();
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/resolve`,
      headers: bearer(t.tokens.responder),
    });
    expect(res.json()).toMatchObject({ status: 'resolved', ack_implied: true, mitigation_implied: true });
  });

  it('lists open incidents newest first, with keyset pagination', async () => {
    for (let i = 0; i < 5; i++) await declare({ title: `page-${i}`, severity: 'sev2' });
    const first = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/incidents?status=all&limit=3',
        headers: bearer(t.tokens.viewer),
      })
    ).json();
    expect(first.incidents).toHaveLength(3);
    expect(first.incidents[0].title).toBe('page-4');
    const second = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/incidents?status=all&limit=3&before=${first.next_cursor}`,
        headers: bearer(t.tokens.viewer),
      })
    ).json();
    expect(second.incidents[0].id).toBeLessThan(Number(first.next_cursor));
    const open = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/incidents?status=open&limit=500',
        headers: bearer(t.tokens.viewer),
      })
    ).json();
    expect(open.incidents.every((i: { status: string }) => i.status !== 'resolved')).toBe(true);
  });

  it('enforces roles: no token 401, viewer cannot declare 403, bad token 401', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/api/v1/incidents' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.message).toContain('Authorization: Bearer');
    const viewer = await declare({ title: 'x', severity: 'sev1' }, t.tokens.viewer);
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json().error.message).toContain('needs the responder role');
    const bad = await t.app.inject({
      method: 'GET',
      url: '/api/v1/incidents',
      headers: bearer('gdn_not-a-real-token'),
    });
    expect(bad.statusCode).toBe(401);
  });

  it('rejects bad input with the field, what was expected and what was received', async () => {
    const res = await declare({ title: 42, severity: 'sev9' });
    expect(res.statusCode).toBe(400);
    const issues = res.json().error.details.issues as { field: string; received: string }[];
    expect(issues.map((i) => i.field).sort()).toEqual(['severity', 'title']);
    expect(issues.find((i) => i.field === 'severity')!.received).toBe('string "sev9"');
    const notFound = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents/99999/acknowledge',
      headers: bearer(t.tokens.responder),
    });
    expect(notFound.statusCode).toBe(404);
    const badId = await t.app.inject({
      method: 'GET',
      url: '/api/v1/incidents/abc',
      headers: bearer(t.tokens.viewer),
    });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.message).toContain('id');
  });
});

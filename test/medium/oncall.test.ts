/**
 * The on-call API on SQLite and PostgreSQL: who is on call with a weekly rotation in Europe/Madrid and an
 * override on top; overrides audited in the hash-chained log; validation errors that name their fields;
 * cancelling; and the target resolution the escalation engine uses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { Policy } from '../../src/domain/policy/schema.js';
import { bearer, DIALECTS, startTestApp, type TestApp } from '../helpers/harness.js';

const base = loadPolicy();
/** Primary rotates weekly on Mondays at 09:00 Madrid time: eng-lead from 2026-11-02, sre from 11-09, … */
const policy: Policy = {
  ...base,
  calendar: { ...base.calendar, timezone: 'Europe/Madrid' },
  rotations: [
    {
      role: 'primary',
      type: 'weekly',
      handoff: 'mon 09:00',
      start: '2026-11-02',
      members: ['eng-lead', 'sre'],
    },
  ],
};

interface RoleOnCall {
  role: string;
  role_name: string;
  people: { id: string; name: string; contacts: { channel: string }[] }[];
  source: string;
  until: string | null;
}
interface OnCall {
  at: string;
  timezone: string;
  roles: RoleOnCall[];
}
interface Override {
  id: number;
  role: string;
  person_id: string;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_by: string;
  state: string;
  cancelled_at: string | null;
  cancelled_by: string | null;
}
interface ErrorBody {
  error: { code: string; message: string; details?: { issues: { field: string; message: string }[] } };
}

describe.each(DIALECTS)('on-call API on %s', (dialect) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function start(): Promise<TestApp> {
    t = await startTestApp(dialect, { policy, now: '2026-11-27T10:00:00.000Z' });
    return t;
  }

  async function onCallAt(app: TestApp, at: string): Promise<Record<string, RoleOnCall>> {
    const res = await app.app.inject({
      method: 'GET',
      url: `/api/v1/oncall?at=${encodeURIComponent(at)}`,
      headers: bearer(app.tokens.viewer),
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<OnCall>();
    expect(body.timezone).toBe('Europe/Madrid');
    return Object.fromEntries(body.roles.map((r) => [r.role, r]));
  }

  function createOverride(app: TestApp, body: Record<string, unknown>, token = app.tokens.responder) {
    return app.app.inject({
      method: 'POST',
      url: '/api/v1/oncall/overrides',
      headers: bearer(token),
      payload: body,
    });
  }

  it('says who holds each role: the rotation, and the role members where there is none', async () => {
    const app = await start();
    // Sunday 2026-11-29 03:00 Madrid (02:00Z) is in the week from 11-23: sre's.
    const roles = await onCallAt(app, '2026-11-29T02:00:00Z');
    expect(roles.primary).toMatchObject({
      role_name: 'Primary on-call',
      people: [{ id: 'sre', name: 'Backend/SRE engineer' }],
      source: 'rotation',
      until: '2026-11-30T08:00:00.000Z',
    });
    expect(roles.primary!.people[0]!.contacts.map((c) => c.channel)).toEqual(['slack', 'email']);
    expect(roles.secondary).toMatchObject({ people: [{ id: 'sre' }], source: 'members', until: null });
    expect(roles.cto).toMatchObject({ people: [{ id: 'cto' }], source: 'members' });
    // After Monday's 09:00 hand-off, eng-lead.
    expect((await onCallAt(app, '2026-11-30T08:00:00Z')).primary!.people[0]!.id).toBe('eng-lead');

    // Without ?at, now (the fake clock: Friday 2026-11-27, sre's week).
    const now = await app.app.inject({
      method: 'GET',
      url: '/api/v1/oncall',
      headers: bearer(app.tokens.viewer),
    });
    expect(now.json<OnCall>().at).toBe('2026-11-27T10:00:00.000Z');
    expect(now.json<OnCall>().roles[0]!.people[0]!.id).toBe('sre');
  });

  it('an override takes the role for its window, is audited with who made it, and can be cancelled', async () => {
    const app = await start();
    const res = await createOverride(app, {
      role: 'primary',
      person_id: 'cto',
      starts_at: '2026-11-29T00:00:00Z',
      ends_at: '2026-11-29T06:00:00+00:00',
      reason: 'sre at a wedding',
    });
    expect(res.statusCode, res.body).toBe(201);
    const override = res.json<Override>();
    expect(override).toMatchObject({
      role: 'primary',
      person_id: 'cto',
      starts_at: '2026-11-29T00:00:00.000Z',
      ends_at: '2026-11-29T06:00:00.000Z',
      created_by: 'token:alice',
      state: 'upcoming',
      cancelled_at: null,
    });

    expect((await onCallAt(app, '2026-11-29T02:00:00Z')).primary).toMatchObject({
      people: [{ id: 'cto' }],
      source: 'override',
      until: '2026-11-29T06:00:00.000Z',
    });
    // Before it, the rotation says when the override takes over; after it, the rotation is back.
    expect((await onCallAt(app, '2026-11-28T20:00:00Z')).primary).toMatchObject({
      people: [{ id: 'sre' }],
      source: 'rotation',
      until: '2026-11-29T00:00:00.000Z',
    });
    expect((await onCallAt(app, '2026-11-29T06:00:00Z')).primary).toMatchObject({ source: 'rotation' });

    // The engine's view: the primary now resolves to the override, the secondary stays; nobody twice.
    expect(
      await app.services.oncall.resolveTargets(
        ['primary', 'secondary', 'cto', 'ghost'],
        new Date('2026-11-29T02:00:00Z'),
      ),
    ).toMatchObject({
      targets: [
        { person: { id: 'cto' }, via: 'primary' },
        { person: { id: 'sre' }, via: 'secondary' },
      ],
      unresolved: ['ghost'],
    });

    const audit = await app.services.audit.list();
    expect(audit.map((e) => [e.action, e.actor, e.subject])).toEqual([
      ['oncall.override', 'token:alice', `oncall-override:${override.id}`],
    ]);
    expect(audit[0]!.data).toMatchObject({ role: 'primary', person_id: 'cto', reason: 'sre at a wedding' });

    const listed = await app.app.inject({
      method: 'GET',
      url: '/api/v1/oncall/overrides',
      headers: bearer(app.tokens.viewer),
    });
    expect(listed.json<{ overrides: Override[] }>().overrides.map((o) => o.id)).toEqual([override.id]);

    const cancel = () =>
      app.app.inject({
        method: 'POST',
        url: `/api/v1/oncall/overrides/${override.id}/cancel`,
        headers: bearer(app.tokens.responder),
        payload: { note: 'wedding postponed' },
      });
    const cancelled = await cancel();
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json<Override>()).toMatchObject({ state: 'cancelled', cancelled_by: 'token:alice' });
    const again = await cancel();
    expect(again.statusCode).toBe(409);
    expect(again.json<ErrorBody>().error.message).toContain('already cancelled by token:alice');

    expect((await onCallAt(app, '2026-11-29T02:00:00Z')).primary).toMatchObject({
      people: [{ id: 'sre' }],
      source: 'rotation',
    });
    const active = await app.app.inject({
      method: 'GET',
      url: '/api/v1/oncall/overrides',
      headers: bearer(app.tokens.viewer),
    });
    expect(active.json<{ overrides: Override[] }>().overrides).toEqual([]);
    const all = await app.app.inject({
      method: 'GET',
      url: '/api/v1/oncall/overrides?status=all',
      headers: bearer(app.tokens.viewer),
    });
    expect(all.json<{ overrides: Override[] }>().overrides.map((o) => [o.id, o.state])).toEqual([
      [override.id, 'cancelled'],
    ]);

    const chain = await app.services.audit.list();
    expect(chain.map((e) => e.action)).toEqual(['oncall.override', 'oncall.override.cancelled']);
    expect(chain[1]!.data).toMatchObject({ note: 'wedding postponed', was: 'upcoming' });
    expect(await app.services.audit.verify()).toMatchObject({ ok: true, checked: 2 });
  });

  it('validation errors name their fields; nothing is stored or audited for a refused override', async () => {
    const app = await start();
    const shape = await createOverride(app, { role: 'primary', starts_at: 'tomorrow', reason: '' });
    expect(shape.statusCode).toBe(400);
    expect(
      shape
        .json<ErrorBody>()
        .error.details!.issues.map((i) => i.field)
        .sort(),
    ).toEqual(['ends_at', 'person_id', 'reason', 'starts_at']);

    const policyRefused = await createOverride(app, {
      role: 'dba',
      person_id: 'ghost',
      starts_at: '2026-11-29T06:00:00Z',
      ends_at: '2026-11-29T05:00:00Z',
      reason: 'cover',
    });
    expect(policyRefused.statusCode).toBe(400);
    const issues = policyRefused.json<ErrorBody>().error.details!.issues;
    expect(issues.map((i) => i.field)).toEqual(['role', 'person_id', 'ends_at']);
    expect(issues[0]!.message).toContain('unknown role "dba"; roles: primary, secondary, cto');
    expect(issues[1]!.message).toContain('unknown person "ghost"');
    expect(issues[2]!.message).toContain('must be after starts_at');

    const tooLong = await createOverride(app, {
      role: 'primary',
      person_id: 'sre',
      ends_at: '2026-12-28T10:00:01Z',
      reason: 'a month away',
    });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json<ErrorBody>().error.details!.issues).toEqual([
      expect.objectContaining({ field: 'ends_at', message: expect.stringContaining('at most 31 days') }),
    ]);

    const badAt = await app.app.inject({
      method: 'GET',
      url: '/api/v1/oncall?at=sunday',
      headers: bearer(app.tokens.viewer),
    });
    expect(badAt.statusCode).toBe(400);
    expect(badAt.json<ErrorBody>().error.details!.issues[0]!.field).toBe('at');

    expect(await app.services.audit.list()).toEqual([]);
    expect(await app.services.oncall.listOverrides({ status: 'all' })).toEqual([]);
  });

  it('only responders change overrides; unknown ids are 404', async () => {
    const app = await start();
    const asViewer = await createOverride(
      app,
      { role: 'primary', person_id: 'sre', ends_at: '2026-11-28T10:00:00Z', reason: 'x' },
      app.tokens.viewer,
    );
    expect(asViewer.statusCode).toBe(403);
    const missing = await app.app.inject({
      method: 'POST',
      url: '/api/v1/oncall/overrides/999/cancel',
      headers: bearer(app.tokens.responder),
    });
    expect(missing.statusCode).toBe(404);
    const anonymous = await app.app.inject({ method: 'GET', url: '/api/v1/oncall' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('simulates a Sev-1 with the override in force at each step, sending and storing nothing', async () => {
    const app = await start();
    // The secondary is covered by eng-lead from 03:03 to 03:10 Madrid: the T+5m step (03:05) goes to eng-lead.
    expect(
      (
        await createOverride(app, {
          role: 'secondary',
          person_id: 'eng-lead',
          starts_at: '2026-11-29T02:03:00Z',
          ends_at: '2026-11-29T02:10:00Z',
          reason: 'sre commuting',
        })
      ).statusCode,
    ).toBe(201);
    const res = await app.app.inject({
      method: 'GET',
      url: '/api/v1/oncall/simulate?severity=sev1&at=2026-11-29T02:00:00Z',
      headers: bearer(app.tokens.viewer),
    });
    expect(res.statusCode, res.body).toBe(200);
    const sim = res.json<{
      steps: { offset: string; unless: string | null; pages: { via: string; person: { id: string } }[] }[];
    }>();
    expect(sim.steps.map((s) => [s.offset, s.unless, s.pages.map((p) => `${p.via}:${p.person.id}`)])).toEqual(
      [
        ['T+0m', null, ['primary:sre']],
        ['T+5m', 'acknowledged', ['secondary:eng-lead']],
        ['T+30m', 'mitigated', ['cto:cto']],
      ],
    );
    const db = app.services.store.db;
    expect(await db.selectFrom('incidents').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('notifications').select('id').execute()).toEqual([]);
  });
});

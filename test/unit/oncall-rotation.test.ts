/**
 * On-call rotations, overrides and target resolution as pure functions: hand-offs at local wall-clock time across
 * Europe/Madrid's DST changes (2026-03-29 spring forward, 2026-10-25 fall back), the hand-off instant itself,
 * before a rotation starts, overlapping overrides (newest wins), and the dry run of an escalation whose rotation
 * hands off mid-incident.
 */
import { describe, expect, it } from 'vitest';
import { formatLocal, formatOffset, parseTimeInput } from '../../src/domain/oncall/local-time.js';
import { MAX_OVERRIDE_MS, overrideState, validateOverride } from '../../src/domain/oncall/override.js';
import {
  holdingAt,
  holdingsAt,
  resolveTargetIds,
  shiftAt,
  type OverrideLike,
} from '../../src/domain/oncall/rotation.js';
import { simulateEscalation } from '../../src/domain/oncall/simulate.js';
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';
import { loadPolicy, parsePolicyText } from '../../src/domain/policy/load.js';
import type { RotationPolicy } from '../../src/domain/policy/oncall-schema.js';
import { renderPolicyMarkdown } from '../../src/domain/policy/render.js';
import type { Policy } from '../../src/domain/policy/schema.js';
import { GuardiaError } from '../../src/shared/errors.js';

const MADRID = 'Europe/Madrid';
const base = loadPolicy();

function policyWith(rotations: RotationPolicy[], timezone = MADRID): Policy {
  return { ...base, calendar: { ...base.calendar, timezone }, rotations };
}

const at = (iso: string): Date => new Date(iso);

describe('weekly rotation across the spring-forward change (Madrid, 2026-03-29)', () => {
  // Mondays 09:00 local: 03-16 and 03-23 are CET (08:00Z); 03-30 is CEST (07:00Z).
  const weekly: RotationPolicy = {
    role: 'primary',
    type: 'weekly',
    handoff: 'mon 09:00',
    start: '2026-03-16',
    members: ['eng-lead', 'sre'],
  };

  it('hands off at 09:00 local time, which is 07:00Z after the change (not 08:00Z)', () => {
    const shift = shiftAt(weekly, MADRID, at('2026-03-30T07:30:00Z'));
    expect(shift).toEqual({
      index: 2,
      member: 'eng-lead',
      starts_at: at('2026-03-30T07:00:00.000Z'),
      ends_at: at('2026-04-06T07:00:00.000Z'),
    });
    // The week across the change is an hour short: 167 h, not 168 h.
    const previous = shiftAt(weekly, MADRID, at('2026-03-29T12:00:00Z'));
    expect(previous).toMatchObject({ index: 1, member: 'sre', starts_at: at('2026-03-23T08:00:00.000Z') });
    expect(previous.ends_at.getTime() - previous.starts_at!.getTime()).toBe(167 * 3_600_000);
  });

  it('the hand-off instant belongs to the incoming member; a millisecond before, to the outgoing one', () => {
    expect(shiftAt(weekly, MADRID, at('2026-03-30T07:00:00.000Z')).member).toBe('eng-lead');
    expect(shiftAt(weekly, MADRID, at('2026-03-30T06:59:59.999Z')).member).toBe('sre');
    expect(shiftAt(weekly, MADRID, at('2026-03-16T08:00:00.000Z'))).toMatchObject({
      index: 0,
      member: 'eng-lead',
    });
  });

  it('says until when the holder holds the role: the next hand-off', () => {
    const policy = policyWith([weekly]);
    expect(holdingAt(policy, 'primary', [], at('2026-03-29T12:00:00Z'))).toEqual({
      role: 'primary',
      people: ['sre'],
      source: 'rotation',
      until: '2026-03-30T07:00:00.000Z',
    });
  });
});

describe('daily rotation across the fall-back change (Madrid, 2026-10-25)', () => {
  const daily: RotationPolicy = {
    role: 'secondary',
    type: 'daily',
    handoff: '09:00',
    start: '2026-10-23',
    members: ['sre', 'eng-lead', 'cto'],
  };

  it('keeps 09:00 local: the shift across the change lasts 25 hours', () => {
    // 10-24 09:00 CEST = 07:00Z; 10-25 09:00 CET = 08:00Z.
    const shift = shiftAt(daily, MADRID, at('2026-10-25T07:30:00Z')); // 08:30 CET: still Saturday's shift
    expect(shift).toEqual({
      index: 1,
      member: 'eng-lead',
      starts_at: at('2026-10-24T07:00:00.000Z'),
      ends_at: at('2026-10-25T08:00:00.000Z'),
    });
    expect(shift.ends_at.getTime() - shift.starts_at!.getTime()).toBe(25 * 3_600_000);
    expect(shiftAt(daily, MADRID, at('2026-10-25T08:00:00Z'))).toMatchObject({ index: 2, member: 'cto' });
    // …and wraps round to the first member.
    expect(shiftAt(daily, MADRID, at('2026-10-26T08:00:00Z'))).toMatchObject({ index: 3, member: 'sre' });
  });

  it('a hand-off inside the hour skipped by spring-forward happens when the clock resumes (03:30 CEST)', () => {
    const skipped: RotationPolicy = { ...daily, handoff: '02:30', start: '2026-03-28' };
    // 03-28 02:30 CET = 01:30Z; 03-29 02:30 does not exist → 03:30 CEST = 01:30Z.
    expect(shiftAt(skipped, MADRID, at('2026-03-29T01:29:59.999Z')).index).toBe(0);
    expect(shiftAt(skipped, MADRID, at('2026-03-29T01:30:00.000Z'))).toMatchObject({
      index: 1,
      starts_at: at('2026-03-29T01:30:00.000Z'),
    });
  });
});

describe('before a rotation starts', () => {
  // 2026-11-04 is a Wednesday: the first "mon 09:00" hand-off at or after it is 2026-11-09.
  const weekly: RotationPolicy = {
    role: 'primary',
    type: 'weekly',
    handoff: 'mon 09:00',
    start: '2026-11-04',
    members: ['sre', 'eng-lead'],
  };

  it('has nobody on shift until the first hand-off at or after `start`', () => {
    expect(shiftAt(weekly, MADRID, at('2026-11-06T12:00:00Z'))).toEqual({
      index: -1,
      member: null,
      starts_at: null,
      ends_at: at('2026-11-09T08:00:00.000Z'),
    });
    expect(shiftAt(weekly, MADRID, at('2026-11-09T08:00:00Z')).member).toBe('sre');
  });

  it("falls back to the role's members, until the first hand-off", () => {
    expect(holdingAt(policyWith([weekly]), 'primary', [], at('2026-11-06T12:00:00Z'))).toEqual({
      role: 'primary',
      people: ['eng-lead'],
      source: 'members',
      until: '2026-11-09T08:00:00.000Z',
    });
  });
});

describe('overrides', () => {
  const policy = policyWith([]);
  const override = (
    o: Partial<OverrideLike> & Pick<OverrideLike, 'id' | 'person_id' | 'starts_at' | 'ends_at'>,
  ) => ({
    role: 'primary',
    created_at: `2026-11-01T00:00:0${o.id}.000Z`,
    ...o,
  });
  // A (older): cto 10:00-14:00. B (newer): sre 12:00-13:00, inside A.
  const A = override({
    id: 1,
    person_id: 'cto',
    starts_at: '2026-11-29T10:00:00.000Z',
    ends_at: '2026-11-29T14:00:00.000Z',
  });
  const B = override({
    id: 2,
    person_id: 'sre',
    starts_at: '2026-11-29T12:00:00.000Z',
    ends_at: '2026-11-29T13:00:00.000Z',
  });

  it.each([
    ['09:00', ['eng-lead'], 'members', '2026-11-29T10:00:00.000Z'],
    ['11:00', ['cto'], 'override', '2026-11-29T12:00:00.000Z'],
    ['12:00', ['sre'], 'override', '2026-11-29T13:00:00.000Z'],
    ['13:00', ['cto'], 'override', '2026-11-29T14:00:00.000Z'],
    ['14:00', ['eng-lead'], 'members', null],
  ])(
    'at %s the holder is %j (%s) until %s; the newest overlapping override wins',
    (time, people, source, until) => {
      const holding = holdingAt(policy, 'primary', [A, B], at(`2026-11-29T${time}:00.000Z`));
      expect(holding).toMatchObject({ people, source, until });
    },
  );

  it('the newest wins by creation, whatever the order of their starts', () => {
    // C is older than D but starts later; while both are in force, D (newer) holds.
    const C = override({
      id: 3,
      person_id: 'cto',
      starts_at: '2026-11-29T11:00:00.000Z',
      ends_at: '2026-11-29T15:00:00.000Z',
      created_at: '2026-11-01T00:00:00.000Z',
    });
    const D = override({
      id: 4,
      person_id: 'sre',
      starts_at: '2026-11-29T10:00:00.000Z',
      ends_at: '2026-11-29T16:00:00.000Z',
      created_at: '2026-11-02T00:00:00.000Z',
    });
    expect(holdingAt(policy, 'primary', [C, D], at('2026-11-29T12:00:00Z'))).toMatchObject({
      people: ['sre'],
      override_id: 4,
      until: '2026-11-29T16:00:00.000Z',
    });
  });

  it('a cancelled override and an override for another role change nothing', () => {
    const cancelled = { ...A, cancelled_at: '2026-11-28T00:00:00.000Z' };
    const other = { ...B, role: 'secondary' };
    expect(holdingAt(policy, 'primary', [cancelled, other], at('2026-11-29T12:30:00Z'))).toEqual({
      role: 'primary',
      people: ['eng-lead'],
      source: 'members',
      until: null,
    });
  });

  it('an override also beats a rotation, which resumes when it ends', () => {
    const rotating = policyWith([
      { role: 'primary', type: 'daily', handoff: '09:00', start: '2026-11-01', members: ['eng-lead', 'sre'] },
    ]);
    const cover = override({
      id: 5,
      person_id: 'cto',
      starts_at: '2026-11-29T20:00:00.000Z',
      ends_at: '2026-11-30T02:00:00.000Z',
    });
    // 2026-11-29 09:00 local starts shift 28 (even: eng-lead). Before the cover: the rotation, until the cover
    // starts (earlier than the next hand-off).
    expect(holdingAt(rotating, 'primary', [cover], at('2026-11-29T12:00:00Z'))).toMatchObject({
      people: ['eng-lead'],
      source: 'rotation',
      until: '2026-11-29T20:00:00.000Z',
    });
    expect(holdingAt(rotating, 'primary', [cover], at('2026-11-29T23:00:00Z'))).toMatchObject({
      people: ['cto'],
      source: 'override',
    });
    expect(holdingAt(rotating, 'primary', [cover], at('2026-11-30T02:00:00Z'))).toMatchObject({
      people: ['eng-lead'],
      source: 'rotation',
      until: '2026-11-30T08:00:00.000Z',
    });
  });

  it('holdingsAt answers for every role in policy order', () => {
    expect(
      holdingsAt(policy, [A], at('2026-11-29T11:00:00Z')).map((h) => [h.role, h.people, h.source]),
    ).toEqual([
      ['primary', ['cto'], 'override'],
      ['secondary', ['sre'], 'members'],
      ['cto', ['cto'], 'members'],
    ]);
  });
});

describe('resolving notify ids to people', () => {
  it('keeps order, pages someone holding two roles once, reads "cto" as the role, and reports unknown ids', () => {
    const policy = policyWith([]);
    const cover: OverrideLike = {
      id: 1,
      role: 'cto',
      person_id: 'sre',
      starts_at: '2026-11-29T00:00:00.000Z',
      ends_at: '2026-11-30T00:00:00.000Z',
      created_at: '2026-11-28T00:00:00.000Z',
    };
    // "cto" is both a role and a person; as the role, its override (sre) applies.
    const result = resolveTargetIds(
      policy,
      [cover],
      ['secondary', 'ghost', 'cto', 'eng-lead'],
      at('2026-11-29T03:00:00Z'),
    );
    expect(result).toEqual({
      targets: [
        { person_id: 'sre', via: 'secondary', source: 'members' },
        { person_id: 'eng-lead', via: 'direct', source: 'direct' },
      ],
      unresolved: ['ghost'],
    });
  });

  it('a role nobody holds is unresolved, so the caller can say nobody was paged', () => {
    const policy: Policy = {
      ...policyWith([]),
      roles: [...base.roles, { id: 'dba', name: 'DBA', members: [] }],
    };
    expect(resolveTargetIds(policy, [], ['dba', 'primary'], at('2026-11-29T03:00:00Z'))).toEqual({
      targets: [{ person_id: 'eng-lead', via: 'primary', source: 'members' }],
      unresolved: ['dba'],
    });
  });
});

describe('the rotations policy section', () => {
  const withRotations = (yaml: string): string =>
    DEFAULT_POLICY_YAML.replace(/^# rotations:\n(#.*\n)*/m, `rotations:\n${yaml}`);

  it('accepts the commented example once uncommented', () => {
    const text = DEFAULT_POLICY_YAML.replace(
      /^# rotations:\n((#.*\n)*)/m,
      (_all, body: string) => `rotations:\n${body.replace(/^# ?/gm, '')}`,
    );
    expect(text).not.toBe(DEFAULT_POLICY_YAML);
    const { policy, problems } = parsePolicyText(text, 'guardia.yaml');
    expect(problems).toEqual([]);
    expect(policy!.rotations).toEqual([
      {
        role: 'primary',
        type: 'weekly',
        handoff: 'mon 09:00',
        start: '2026-11-02',
        members: ['eng-lead', 'sre'],
      },
    ]);
  });

  it('names each wrong field: hand-off format per type, unknown role and person, a second rotation for a role', () => {
    const { problems } = parsePolicyText(
      withRotations(`  - { role: primary, type: daily, handoff: "mon 09:00", start: "2026-11-02", members: [sre] }
  - { role: primary, type: weekly, handoff: "09:00", start: "2026-11-02", members: [sre, nobody] }
  - { role: dba, type: weekly, handoff: "sun 25:00", start: "2026-11-02", members: [sre] }
`),
      'guardia.yaml',
    );
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['rotations[0].handoff']).toContain('daily rotation hands off at a 24-hour time "HH:MM"');
    expect(byPath['rotations[1].handoff']).toContain(
      'weekly rotation hands off at a weekday and time like "mon 09:00"',
    );
    expect(byPath['rotations[1].role']).toContain('role "primary" already has a rotation');
    expect(byPath['rotations[1].members[1]']).toContain('unknown person "nobody"');
    expect(byPath['rotations[2].role']).toContain('unknown role "dba"');
    expect(byPath['rotations[2].handoff']).toContain('got "sun 25:00"');
    expect(problems.every((p) => p.line > 0)).toBe(true);
  });
  it('is stated in the rendered runbook', () => {
    const markdown = renderPolicyMarkdown(
      policyWith([
        {
          role: 'primary',
          type: 'weekly',
          handoff: 'mon 09:00',
          start: '2026-11-02',
          members: ['eng-lead', 'sre'],
        },
      ]),
    );
    expect(markdown).toContain(
      '- **Primary on-call:** Engineering Lead; weekly rotation Engineering Lead → Backend/SRE engineer, hand-off mon 09:00 Europe/Madrid, from 2026-11-02\n',
    );
  });
});

describe('dry run of an escalation', () => {
  it('resolves each step at its own due time: a hand-off mid-incident changes who gets the later step', () => {
    // The CTO role rotates daily at 09:00 Madrid (08:00Z in November). A Sev-1 at 08:50 local: when it starts,
    // the CTO role is on shift 27 (odd: cto); the CTO step falls due at 09:20, after the hand-off, on shift 28
    // (even: eng-lead) — the dry run must page the person on call then, not at the start.
    const policy = policyWith([
      { role: 'cto', type: 'daily', handoff: '09:00', start: '2026-11-01', members: ['eng-lead', 'cto'] },
    ]);
    expect(holdingAt(policy, 'cto', [], at('2026-11-29T07:50:00Z')).people).toEqual(['cto']);
    const sim = simulateEscalation(policy, [], 'sev1', at('2026-11-29T07:50:00Z'), {});
    expect(sim).toMatchObject({
      severity: 'sev1',
      timezone: MADRID,
      started_at: '2026-11-29T07:50:00.000Z',
      ack_due_at: '2026-11-29T07:55:00.000Z',
      mitigate_due_at: '2026-11-29T08:20:00.000Z',
    });
    expect(
      sim.steps.map((s) => [s.offset, s.unless, s.pages.map((p) => [p.via, p.person.id, p.source])]),
    ).toEqual([
      ['T+0m', null, [['primary', 'eng-lead', 'members']]],
      ['T+5m', 'acknowledged', [['secondary', 'sre', 'members']]],
      ['T+30m', 'mitigated', [['cto', 'eng-lead', 'rotation']]],
    ]);
    expect(sim.steps[2]!.due_local).toBe('Sun 2026-11-29 09:20 (+01:00)');
  });

  it('lists each contact in failover order and says which channel lacks its secret, never a secret value', () => {
    const sim = simulateEscalation(base, [], 'sev3', at('2026-11-29T03:00:00Z'), {
      SLACK_WEBHOOK_URL: 'https://hooks.slack.test/services/SECRET',
    });
    expect(sim.steps).toHaveLength(1);
    expect(sim.steps[0]!.pages[0]!.contacts).toEqual([
      { channel: 'slack', type: 'slack', to: 'U0000LEAD', configured: true },
      {
        channel: 'email',
        type: 'email',
        to: 'eng-lead@example.com',
        configured: false,
        missing_secret: 'SMTP_URL',
      },
    ]);
    expect(JSON.stringify(sim)).not.toContain('SECRET');
  });
});

describe('override validation', () => {
  const now = at('2026-11-27T10:00:00Z');

  it('names every wrong field at once', () => {
    let error: unknown;
    try {
      validateOverride(
        { role: 'nope', person_id: 'ghost', ends_at: at('2026-11-27T09:00:00Z'), reason: '  ' },
        base,
        now,
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GuardiaError);
    const issues = (error as GuardiaError).details as { issues: { field: string; message: string }[] };
    expect(issues.issues.map((i) => i.field)).toEqual(['role', 'person_id', 'reason', 'ends_at']);
    expect(issues.issues[3]!.message).toContain('must be in the future');
  });

  it('refuses an end before the start and more than 31 days of cover; records a past start as now', () => {
    const ok = { role: 'primary', person_id: 'sre', reason: 'swap' };
    expect(() =>
      validateOverride(
        { ...ok, starts_at: at('2026-11-28T10:00:00Z'), ends_at: at('2026-11-28T09:00:00Z') },
        base,
        now,
      ),
    ).toThrow(/ends_at: must be after starts_at/);
    expect(() =>
      validateOverride({ ...ok, ends_at: new Date(now.getTime() + MAX_OVERRIDE_MS + 1) }, base, now),
    ).toThrow(/at most 31 days/);
    expect(
      validateOverride({ ...ok, ends_at: new Date(now.getTime() + MAX_OVERRIDE_MS) }, base, now).ends_at,
    ).toEqual(new Date(now.getTime() + MAX_OVERRIDE_MS));
    const past = validateOverride(
      { ...ok, starts_at: at('2026-11-01T00:00:00Z'), ends_at: at('2026-11-28T00:00:00Z') },
      base,
      now,
    );
    expect(past.starts_at).toEqual(now);
  });

  it('states: upcoming, active (start inclusive), ended (end exclusive), cancelled', () => {
    const o = {
      starts_at: '2026-11-27T10:00:00.000Z',
      ends_at: '2026-11-27T12:00:00.000Z',
      cancelled_at: null,
    };
    expect(overrideState(o, at('2026-11-27T09:59:59Z'))).toBe('upcoming');
    expect(overrideState(o, at('2026-11-27T10:00:00Z'))).toBe('active');
    expect(overrideState(o, at('2026-11-27T12:00:00Z'))).toBe('ended');
    expect(overrideState({ ...o, cancelled_at: '2026-11-27T09:00:00.000Z' }, now)).toBe('cancelled');
  });
});

describe('times as people type and read them', () => {
  it('reads local times in the policy zone and ISO instants as given', () => {
    expect(parseTimeInput('2026-11-29 03:00', MADRID)).toEqual(at('2026-11-29T02:00:00Z'));
    expect(parseTimeInput('2026-07-01T03:00', MADRID)).toEqual(at('2026-07-01T01:00:00Z'));
    expect(parseTimeInput('2026-11-29', MADRID)).toEqual(at('2026-11-28T23:00:00Z'));
    expect(parseTimeInput('2026-11-29T03:00:00Z', MADRID)).toEqual(at('2026-11-29T03:00:00Z'));
    expect(parseTimeInput('2026-11-29T03:00:00+05:30', MADRID)).toEqual(at('2026-11-28T21:30:00Z'));
    // Repeated hour on 2026-10-25: the first 02:30 (CEST).
    expect(parseTimeInput('2026-10-25 02:30', MADRID)).toEqual(at('2026-10-25T00:30:00Z'));
    expect(parseTimeInput('sunday 3am', MADRID)).toEqual({
      error: expect.stringContaining('read in Europe/Madrid'),
    });
    expect(parseTimeInput('2026-02-30 03:00', MADRID)).toEqual({
      error: expect.stringContaining('not a valid date'),
    });
  });

  it('shows local time with its offset, and offsets from the start', () => {
    expect(formatLocal(at('2026-11-29T02:00:00Z'), MADRID)).toBe('Sun 2026-11-29 03:00 (+01:00)');
    expect(formatLocal(at('2026-07-01T01:00:00Z'), MADRID)).toBe('Wed 2026-07-01 03:00 (+02:00)');
    expect([0, 300_000, 1_800_000, 5_400_000, 90_000_000].map(formatOffset)).toEqual([
      'T+0m',
      'T+5m',
      'T+30m',
      'T+1h30m',
      'T+1d1h',
    ]);
  });
});

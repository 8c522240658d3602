/**
 * The release gate as a pure function (DESIGN.md §2): each runbook reason blocks on its own, all holding passes,
 * an 8-day-old smoke success blocks, a mitigated sev1 blocks, the newest run decides, overrides apply only while
 * active, and an override needs a second person and at most 24 h. Plus the formats and the
 * deployment_protection_rule parse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  describeAge,
  evaluateGate,
  type GateIncident,
  type GateRun,
  type GateState,
} from '../../src/domain/gate/evaluate.js';
import { formatGateComment, formatGateMarkdown, formatGateText } from '../../src/domain/gate/format.js';
import {
  activeOverride,
  parseExpiry,
  validateOverride,
  type GateOverride,
} from '../../src/domain/gate/override.js';
import { loadPolicy } from '../../src/domain/policy/load.js';
import { githubAdapter } from '../../src/ingest/github.js';
import { GuardiaError } from '../../src/shared/errors.js';

const policy = loadPolicy({});
const NOW = new Date('2026-11-27T10:00:00.000Z');
const DAY = 86_400_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

let nextRun = 1;
function run(
  workflow: 'smoke' | 'parity',
  conclusion: string | null,
  completedAgoMs: number,
  extra: Partial<GateRun> = {},
): GateRun {
  const id = nextRun++;
  return {
    repo: 'octo-org/octo-repo',
    run_id: String(1000 + id),
    run_number: id,
    workflow_path:
      workflow === 'smoke'
        ? '.github/workflows/backup-restore-smoke.yml'
        : '.github/workflows/real-db-parity.yml',
    workflow_name: workflow === 'smoke' ? 'Backup restore smoke' : 'Real DB parity',
    head_branch: 'main',
    status: 'completed',
    conclusion,
    html_url: `https://github.com/octo-org/octo-repo/actions/runs/${1000 + id}`,
    completed_at: ago(completedAgoMs),
    ...extra,
  };
}

function incident(id: number, severity: string, status: string, title = `incident ${id}`): GateIncident {
  return { id, severity, status, title };
}

/** Everything the runbook asks for holds. */
function healthy(): GateState {
  return {
    runs: [run('smoke', 'success', 2 * DAY), run('parity', 'success', 1 * DAY)],
    openIncidents: [incident(1, 'sev2', 'triggered')],
    overrides: [],
  };
}

function override(o: Partial<GateOverride> = {}): GateOverride {
  return {
    id: 7,
    reason: 'hotfix for a data-loss bug',
    requested_by: 'token:alice',
    approved_by: 'bob',
    created_at: ago(60 * 60_000),
    expires_at: new Date(NOW.getTime() + 3 * 60 * 60_000).toISOString(),
    revoked_at: null,
    revoked_by: null,
    ...o,
  };
}

const statusOf = (d: ReturnType<typeof evaluateGate>) =>
  Object.fromEntries(d.checks.map((c) => [c.id, c.status]));

describe('evaluateGate: the runbook reasons', () => {
  it('passes when the smoke and parity runs are green and no sev1 is open', () => {
    const d = evaluateGate(healthy(), policy, NOW);
    expect(d.result).toBe('pass');
    expect(statusOf(d)).toEqual({
      'backup-restore-smoke': 'pass',
      'real-db-parity': 'pass',
      'no-open-sev1': 'pass',
    });
    expect(d.checks[0]!.reason).toMatch(
      /^newest run #\d+ succeeded 2 days ago \(2026-11-25T10:00:00.000Z\)$/,
    );
    expect(d.checks[0]!.link).toMatch(/^https:\/\/github.com\/octo-org\/octo-repo\/actions\/runs\/\d+$/);
    expect(d.checks[2]!.reason).toBe('no open sev1 incident');
    expect(d.override).toBeUndefined();
  });

  it('blocks on a failed backup-restore smoke alone', () => {
    const state = healthy();
    state.runs[0] = run('smoke', 'failure', 3 * 60 * 60_000);
    const d = evaluateGate(state, policy, NOW);
    expect(d.result).toBe('blocked');
    expect(statusOf(d)).toEqual({
      'backup-restore-smoke': 'fail',
      'real-db-parity': 'pass',
      'no-open-sev1': 'pass',
    });
    expect(d.checks[0]!.reason).toContain('concluded failure; no success recorded');
  });

  it('blocks on a failed Real DB parity alone', () => {
    const state = healthy();
    state.runs[1] = run('parity', 'failure', 60 * 60_000);
    const d = evaluateGate(state, policy, NOW);
    expect(d.result).toBe('blocked');
    expect(statusOf(d)).toEqual({
      'backup-restore-smoke': 'pass',
      'real-db-parity': 'fail',
      'no-open-sev1': 'pass',
    });
  });

  it('blocks on an open sev1 alone, naming it and linking its API path', () => {
    const state = healthy();
    state.openIncidents.push(incident(42, 'sev1', 'acknowledged', 'Checkout down'));
    const d = evaluateGate(state, policy, NOW);
    expect(d.result).toBe('blocked');
    expect(statusOf(d)).toEqual({
      'backup-restore-smoke': 'pass',
      'real-db-parity': 'pass',
      'no-open-sev1': 'fail',
    });
    expect(d.checks[2]).toMatchObject({
      reason: '1 open sev1 incident: #42 "Checkout down" (acknowledged)',
      link: '/api/v1/incidents/42',
    });
  });

  it('an 8-day-old smoke success blocks, saying how old it is', () => {
    const state = healthy();
    state.runs[0] = run('smoke', 'success', 8 * DAY);
    const d = evaluateGate(state, policy, NOW);
    expect(d.result).toBe('blocked');
    expect(d.checks[0]).toMatchObject({
      status: 'fail',
      reason: 'last success 8 days ago (2026-11-19T10:00:00.000Z), older than 7d',
    });
    // Just inside the window still passes.
    state.runs[0] = run('smoke', 'success', 7 * DAY - 60_000);
    expect(evaluateGate(state, policy, NOW).result).toBe('pass');
  });

  it('max_age applies only to the check that has it (a 30-day-old parity success passes)', () => {
    const state = healthy();
    state.runs[1] = run('parity', 'success', 30 * DAY);
    expect(evaluateGate(state, policy, NOW).result).toBe('pass');
  });

  it('no run at all fails with "no completed run … recorded"', () => {
    const state = healthy();
    state.runs = [run('parity', 'success', DAY)];
    const d = evaluateGate(state, policy, NOW);
    expect(d.checks[0]).toMatchObject({
      status: 'fail',
      reason: 'no completed run of backup-restore-smoke.yml recorded on main',
    });
    expect(d.checks[0]!.link).toBeUndefined();
  });

  it('a mitigated but unresolved sev1 blocks; a resolved one does not', () => {
    const state = healthy();
    state.openIncidents.push(incident(5, 'sev1', 'mitigated', 'DB failover'));
    expect(evaluateGate(state, policy, NOW).checks[2]).toMatchObject({
      status: 'fail',
      reason: expect.stringContaining('#5 "DB failover" (mitigated)'),
    });
    state.openIncidents[1] = incident(5, 'sev1', 'resolved');
    expect(evaluateGate(state, policy, NOW).result).toBe('pass');
  });

  it('names every open sev1', () => {
    const state = healthy();
    state.openIncidents.push(incident(9, 'sev1', 'triggered', 'B'), incident(3, 'sev1', 'mitigated', 'A'));
    const check = evaluateGate(state, policy, NOW).checks[2]!;
    expect(check.reason).toBe('2 open sev1 incidents: #3 "A" (mitigated), #9 "B" (triggered)');
    expect(check.link).toBe('/api/v1/incidents/3');
  });

  it('the newest run decides: a failure after a success blocks, and the reason names the last success', () => {
    const state = healthy();
    const failed = run('parity', 'failure', 2 * 60 * 60_000);
    state.runs.push(failed);
    const d = evaluateGate(state, policy, NOW);
    expect(d.result).toBe('blocked');
    expect(d.checks[1]).toMatchObject({
      status: 'fail',
      link: failed.html_url,
      reason: `newest run #${failed.run_number} 2 hours ago (${failed.completed_at}) concluded failure; last success 24 hours ago (${ago(DAY)})`,
    });
    // …and a success after the failure unblocks (order of the input does not matter).
    state.runs.unshift(run('parity', 'success', 60 * 60_000));
    expect(evaluateGate(state, policy, NOW).result).toBe('pass');
  });

  it('a cancelled newest run also blocks (it proves nothing)', () => {
    const state = healthy();
    state.runs.push(run('smoke', 'cancelled', 60_000));
    expect(evaluateGate(state, policy, NOW).checks[0]!.reason).toContain('concluded cancelled');
  });

  it('only release-branch runs count: a red feature branch neither blocks nor a green one unblocks', () => {
    const state = healthy();
    state.runs.push(run('parity', 'failure', 60_000, { head_branch: 'feature/x' }));
    expect(evaluateGate(state, policy, NOW).result).toBe('pass');
    state.runs = [run('smoke', 'success', DAY, { head_branch: 'feature/x' }), run('parity', 'success', DAY)];
    expect(evaluateGate(state, policy, NOW).checks[0]!.status).toBe('fail');
  });

  it('with github.repo set, runs of other repositories do not count', () => {
    const scoped = { ...policy, github: { ...policy.github, repo: 'octo-org/other' } };
    const d = evaluateGate(healthy(), scoped, NOW);
    expect(d.checks[0]!.reason).toBe(
      'no completed run of backup-restore-smoke.yml recorded on main of octo-org/other',
    );
  });

  it('ignores runs that are not completed', () => {
    const state = healthy();
    state.runs.push(run('smoke', null, 0, { status: 'in_progress' }));
    expect(evaluateGate(state, policy, NOW).result).toBe('pass');
  });
});

describe('evaluateGate: overrides', () => {
  function blocked(): GateState {
    const state = healthy();
    state.openIncidents.push(incident(42, 'sev1', 'triggered', 'Checkout down'));
    return state;
  }

  it('an active override turns blocked into overridden and still lists the failing check', () => {
    const state = blocked();
    state.overrides = [override()];
    const d = evaluateGate(state, policy, NOW);
    expect(d.result).toBe('overridden');
    expect(d.override).toMatchObject({ id: 7, approved_by: 'bob' });
    expect(statusOf(d)['no-open-sev1']).toBe('fail');
  });

  it('an expired override no longer applies', () => {
    const state = blocked();
    state.overrides = [override({ expires_at: ago(1) })];
    expect(evaluateGate(state, policy, NOW).result).toBe('blocked');
    // The instant it expires, it is over.
    state.overrides = [override({ expires_at: NOW.toISOString() })];
    expect(evaluateGate(state, policy, NOW).result).toBe('blocked');
  });

  it('a revoked override no longer applies', () => {
    const state = blocked();
    state.overrides = [override({ revoked_at: ago(60_000), revoked_by: 'token:admin' })];
    expect(evaluateGate(state, policy, NOW).result).toBe('blocked');
  });

  it('a passing gate is a pass, not "overridden", even with an active override', () => {
    const state = healthy();
    state.overrides = [override()];
    const d = evaluateGate(state, policy, NOW);
    expect(d.result).toBe('pass');
    expect(d.override).toBeUndefined();
  });

  it('of several active overrides, the longest-lived applies', () => {
    const later = override({ id: 9, expires_at: new Date(NOW.getTime() + 5 * 3_600_000).toISOString() });
    expect(activeOverride([override(), later, override({ id: 3, expires_at: ago(1) })], NOW)?.id).toBe(9);
  });
});

describe('validateOverride', () => {
  const valid = {
    reason: 'hotfix',
    requested_by: 'token:alice',
    approved_by: 'bob',
    expires_at: new Date(NOW.getTime() + 4 * 3_600_000),
  };
  function refusal(input: Partial<typeof valid>): { field: string; message: string }[] {
    try {
      validateOverride({ ...valid, ...input }, policy, NOW);
    } catch (err) {
      expect(err).toBeInstanceOf(GuardiaError);
      expect((err as GuardiaError).code).toBe('invalid_input');
      return ((err as GuardiaError).details as { issues: { field: string; message: string }[] }).issues;
    }
    throw new Error('expected a refusal');
  }

  it('accepts a reason, a second person and an expiry within 24 h (exactly 24 h included)', () => {
    expect(validateOverride(valid, policy, NOW)).toEqual(valid);
    const max = new Date(NOW.getTime() + 24 * 3_600_000);
    expect(validateOverride({ ...valid, expires_at: max }, policy, NOW).expires_at).toEqual(max);
  });

  it('refuses an override whose approver is the requester (any case, spaces, token:/cli: prefix)', () => {
    for (const approver of ['token:alice', 'Alice', '  ALICE ', 'cli:alice']) {
      const issues = refusal({ approved_by: approver });
      expect(issues).toEqual([
        expect.objectContaining({
          field: 'approver',
          message: 'the approver must be someone other than the requester (token:alice)',
        }),
      ]);
    }
  });

  it('refuses more than 24 h, naming the limit', () => {
    const issues = refusal({ expires_at: new Date(NOW.getTime() + 24 * 3_600_000 + 1) });
    expect(issues).toEqual([
      expect.objectContaining({
        field: 'expires_at',
        message: expect.stringContaining('an override lasts at most 24h (gate.override.max_duration)'),
      }),
    ]);
  });

  it('refuses an expiry in the past, a missing reason and a missing approver, all at once', () => {
    const issues = refusal({ reason: '  ', approved_by: '', expires_at: new Date(NOW.getTime() - 1) });
    expect(issues.map((i) => i.field)).toEqual(['reason', 'approver', 'expires_at']);
    expect(refusal({ expires_at: NOW })[0]!.message).toContain('must be in the future');
  });
});

describe('parseExpiry', () => {
  it('takes a duration from now or an ISO time with an offset', () => {
    expect(parseExpiry('4h', NOW).toISOString()).toBe('2026-11-27T14:00:00.000Z');
    expect(parseExpiry('30m', NOW).toISOString()).toBe('2026-11-27T10:30:00.000Z');
    expect(parseExpiry('2026-11-27T18:00:00+01:00', NOW).toISOString()).toBe('2026-11-27T17:00:00.000Z');
  });
  it('refuses anything else, naming the field', () => {
    for (const bad of ['tomorrow', '1 business day', '2026-11-27', '-4h']) {
      expect(() => parseExpiry(bad, NOW, '--expires')).toThrow(/--expires: expected a duration from now/);
    }
  });
});

describe('formats', () => {
  const state = healthy();
  state.openIncidents.push(incident(42, 'sev1', 'triggered', 'Checkout | payments down'));
  const d = { ...evaluateGate(state, policy, NOW), decision_id: 12 };

  it('text: one line per check with ✓/✗ and the reason, links made absolute with the server URL', () => {
    const text = formatGateText(d, 'https://guardia.example.com');
    expect(text).toMatch(/^Release gate: BLOCKED \(1 of 3 checks fail\)/);
    expect(text).toContain('  ✓ Latest weekly backup-restore smoke success: newest run');
    expect(text).toContain('  ✗ No open Sev-1: 1 open sev1 incident: #42');
    expect(text).toContain('      https://guardia.example.com/api/v1/incidents/42');
  });

  it('markdown: a table whose cells escape "|"', () => {
    const md = formatGateMarkdown(d);
    expect(md).toContain('### ❌ Release gate: blocked');
    expect(md).toContain(
      '| ❌ | No open Sev-1 | 1 open sev1 incident: #42 "Checkout \\| payments down" (triggered) |',
    );
    expect(md.split('\n').filter((l) => l.startsWith('| ')).length).toBe(4);
  });

  it('deployment comment: failing checks first, at most 1024 characters', () => {
    const comment = formatGateComment(d);
    expect(comment.split('\n').slice(0, 2)).toEqual([
      'Guardia release gate: blocked',
      '✗ No open Sev-1: 1 open sev1 incident: #42 "Checkout | payments down" (triggered)',
    ]);
    const long = { ...d, checks: d.checks.map((c) => ({ ...c, reason: c.reason + 'x'.repeat(600) })) };
    expect(formatGateComment(long).length).toBe(1024);
  });

  it('ages read naturally', () => {
    expect([0, 59_000, 60_000, 3_600_000, 47 * 3_600_000, 2 * DAY, 8 * DAY + 5].map(describeAge)).toEqual([
      '0 minutes ago',
      '0 minutes ago',
      '1 minute ago',
      '1 hour ago',
      '47 hours ago',
      '2 days ago',
      '8 days ago',
    ]);
  });
});

describe('GitHub deployment_protection_rule delivery (parse only)', () => {
  const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/integrations');
  const fixture = JSON.parse(
    fs.readFileSync(path.join(FIXTURES, 'github-deployment-protection-rule.json'), 'utf8'),
  ) as { request: { headers: Record<string, string>; body: Record<string, unknown> } };
  const integration = policy.integrations.find((i) => i.name === 'github')!;
  const parse = (body: unknown, headers = fixture.request.headers) =>
    githubAdapter.parse(
      {
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
        query: {},
        rawBody: Buffer.from(JSON.stringify(body)),
        receivedAt: NOW,
      },
      integration,
    );

  it('turns a requested rule into a deployment review request, with no alert', () => {
    expect(parse(fixture.request.body)).toEqual({
      alerts: [],
      deploymentReviews: [
        {
          environment: 'production',
          callback_url:
            'https://api.github.com/repos/octo-org/octo-repo/actions/runs/289782999/deployment_protection_rule',
          repo: 'octo-org/octo-repo',
          sha: '3484a3fb816e0859fd6e1cea078d76385ff50625',
          ref: 'main',
          event: 'push',
          deployment_id: 1234567,
          installation_id: 45678901,
          delivery_id: '9a1c2f30-6095-11f1-8b9d-2f1c7e0a4b11',
        },
      ],
    });
  });

  it('drops other actions and refuses a body without a callback URL, naming the field', () => {
    expect(parse({ ...fixture.request.body, action: 'something_else' })).toEqual({ alerts: [] });
    const { deployment_callback_url: _dropped, ...rest } = fixture.request.body;
    expect(() => parse(rest)).toThrow(/deployment_callback_url/);
    expect(() => parse({ ...fixture.request.body, deployment_callback_url: 'file:///etc/passwd' })).toThrow(
      /deployment_callback_url/,
    );
  });
});

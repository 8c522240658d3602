/**
 * Evidence status as a pure function: met, failed, missing (a hole in a past week stays a hole), due soon and
 * pending, with the evidence and its links.
 */
import { describe, expect, it } from 'vitest';
import {
  evidenceStatus,
  hasClosedHoles,
  type EvidenceStatusInput,
  type RecordEvidence,
  type RunEvidence,
} from '../../src/domain/evidence/status.js';
import { loadPolicy } from '../../src/domain/policy/load.js';
import { parseDuration, type PolicyDuration } from '../../src/domain/policy/duration.js';

const policy = loadPolicy({});
const weekly = policy.evidence.weekly;
const monthly = policy.evidence.monthly;

function duration(text: string): PolicyDuration {
  const d = parseDuration(text);
  if ('error' in d) throw new Error(d.error);
  return d;
}

let nextRun = 1;
function run(workflow: { path: string; name: string }, conclusion: string, completedAt: string): RunEvidence {
  const id = nextRun++;
  return {
    run_id: String(1000 + id),
    run_number: id,
    repo: 'acme/app',
    workflow_path: workflow.path,
    workflow_name: workflow.name,
    head_branch: 'main',
    conclusion,
    html_url: `https://github.com/acme/app/actions/runs/${1000 + id}`,
    completed_at: completedAt,
  };
}

const SMOKE = { path: '.github/workflows/backup-restore-smoke.yml', name: 'Backup restore smoke' };
const TEST_BUILD = { path: '.github/workflows/ci.yml', name: 'Test/Build' };
const PARITY = { path: '.github/workflows/parity.yml', name: 'Real DB parity' };

function record(
  partial: Partial<RecordEvidence> & Pick<RecordEvidence, 'requirement_id' | 'period'>,
): RecordEvidence {
  return {
    id: 1,
    status: 'success',
    summary: 'done',
    source: 'manual',
    recorded_by: 'token:alice',
    recorded_at: '2026-11-20T10:00:00.000Z',
    links: [],
    ...partial,
  };
}

function status(input: Partial<EvidenceStatusInput>) {
  const result = evidenceStatus({
    requirements: weekly,
    period: '2026-W48',
    timeZone: 'UTC',
    runs: [],
    records: [],
    now: new Date('2026-11-25T12:00:00Z'), // Wednesday of 2026-W48
    dueSoon: duration('2d'),
    calendar: policy.calendar,
    ...input,
  });
  return { ...result, state: Object.fromEntries(result.requirements.map((r) => [r.id, r.state])) };
}

describe('evidenceStatus', () => {
  it('met: a success run inside the week, with its link; a run the week before does not count', () => {
    const s = status({
      runs: [
        run(SMOKE, 'success', '2026-11-24T03:00:00Z'),
        run(TEST_BUILD, 'success', '2026-11-22T23:59:59.000Z'), // Sunday of W47
        run(PARITY, 'success', '2026-11-23T00:00:00.000Z'), // first instant of W48
      ],
    });
    expect(s.state).toMatchObject({
      'backup-restore-smoke': 'met',
      'ci-real-db-parity': 'met',
      'ci-test-build': 'pending',
    });
    const smoke = s.requirements.find((r) => r.id === 'backup-restore-smoke')!;
    expect(smoke.evidence).toEqual([
      expect.objectContaining({
        type: 'workflow_run',
        outcome: 'success',
        url: expect.stringMatching(/^https:\/\/github\.com\/acme\/app\/actions\/runs\/\d+$/),
      }),
    ]);
    expect(s.closed).toBe(false);
  });

  it('failed: only failures inside the period, all listed; a later success makes it met', () => {
    const fail1 = run(SMOKE, 'failure', '2026-11-23T03:00:00Z');
    const fail2 = run(SMOKE, 'timed_out', '2026-11-24T03:00:00Z');
    const cancelled = run(SMOKE, 'cancelled', '2026-11-24T04:00:00Z');
    const s = status({ runs: [fail1, fail2, cancelled] });
    expect(s.state['backup-restore-smoke']).toBe('failed');
    const smoke = s.requirements.find((r) => r.id === 'backup-restore-smoke')!;
    expect(smoke.failures.map((f) => f.id)).toEqual([fail2.run_id, fail1.run_id]); // newest first; cancelled ignored
    const fixed = status({ runs: [fail1, fail2, run(SMOKE, 'success', '2026-11-25T03:00:00Z')] });
    expect(fixed.state['backup-restore-smoke']).toBe('met');
    expect(fixed.requirements.find((r) => r.id === 'backup-restore-smoke')!.failures).toHaveLength(2);
  });

  it('missing: a past week with nothing stays a hole, even when evidence arrives in the next week', () => {
    const s = status({
      period: '2026-W47',
      runs: [run(SMOKE, 'success', '2026-11-23T00:00:01Z')], // Monday of W48: too late for W47
      records: [
        record({
          requirement_id: 'incident-review',
          period: '2026-W48',
          source: 'review',
          status: 'recorded',
        }),
      ],
    });
    expect(s.closed).toBe(true);
    expect(Object.values(s.state)).toEqual(['missing', 'missing', 'missing', 'missing']);
    expect(hasClosedHoles([s])).toBe(true);
  });

  it('a failed requirement in a closed period is a hole too; a fully met closed period is not', () => {
    const failed = status({
      period: '2026-W47',
      runs: [run(SMOKE, 'failure', '2026-11-20T03:00:00Z')],
      requirements: weekly.filter((r) => r.id === 'backup-restore-smoke'),
    });
    expect(failed.state['backup-restore-smoke']).toBe('failed');
    expect(hasClosedHoles([failed])).toBe(true);
    const met = status({
      period: '2026-W47',
      runs: [run(SMOKE, 'success', '2026-11-20T03:00:00Z')],
      requirements: weekly.filter((r) => r.id === 'backup-restore-smoke'),
    });
    expect(hasClosedHoles([met])).toBe(false);
    // An open period with a failure is not a hole yet.
    expect(hasClosedHoles([status({ runs: [run(SMOKE, 'failure', '2026-11-24T03:00:00Z')] })])).toBe(false);
  });

  it('due_soon: nothing yet and the week ends within due_soon; pending with more time left', () => {
    expect(status({ now: new Date('2026-11-28T12:00:00Z') }).state['incident-review']).toBe('due_soon'); // Sat
    expect(status({ now: new Date('2026-11-27T23:59:59Z') }).state['incident-review']).toBe('pending'); // > 2 days
    expect(status({ now: new Date('2026-11-28T00:00:00Z') }).state['incident-review']).toBe('due_soon'); // exactly 2d
    expect(status({ now: new Date('2026-11-25T12:00:00Z') }).state['incident-review']).toBe('pending');
  });

  it('pending: every requirement of a period that has not started yet', () => {
    const s = status({ period: '2026-W49', now: new Date('2026-11-29T23:00:00Z') });
    expect(Object.values(s.state)).toEqual(['pending', 'pending', 'pending', 'pending']);
  });

  it('review and manual requirements are met by records of their period, with links and attachments', () => {
    const s = status({
      requirements: monthly,
      period: '2026-11',
      now: new Date('2026-12-02T00:00:00Z'),
      records: [
        record({
          id: 7,
          requirement_id: 'access-review',
          period: '2026-11',
          links: [{ href: 'https://wiki.example.com/access-review-2026-11' }],
          attachments: [
            { id: 3, filename: 'accounts.csv', content_type: 'text/csv', size: 10, sha256: 'ab' },
          ],
        }),
        record({
          id: 8,
          requirement_id: 'dr-drill',
          period: '2026-11',
          status: 'failure',
          summary: 'RTO missed',
        }),
        record({ id: 9, requirement_id: 'secret-rotation-audit', period: '2026-10' }), // another month
      ],
    });
    expect(s.state).toEqual({
      'secret-rotation-audit': 'missing',
      'access-review': 'met',
      'dr-drill': 'failed',
    });
    const access = s.requirements.find((r) => r.id === 'access-review')!;
    expect(access.evidence[0]).toMatchObject({
      type: 'record',
      id: '7',
      url: 'https://wiki.example.com/access-review-2026-11',
      attachments: [expect.objectContaining({ filename: 'accounts.csv' })],
    });
  });

  it('a weekly review counts for the review requirement whatever its id; "recorded" means held', () => {
    const s = status({
      records: [
        record({ requirement_id: 'weekly-review', period: '2026-W48', source: 'review', status: 'recorded' }),
      ],
    });
    expect(s.state['incident-review']).toBe('met');
  });

  it('business-day due_soon is counted on the calendar', () => {
    const s = status({ dueSoon: duration('1 business day'), now: new Date('2026-11-27T10:00:00Z') }); // Fri
    // One business day from Friday 10:00 is Monday 10:00, after the week ends: due soon already.
    expect(s.state['incident-review']).toBe('due_soon');
  });
});

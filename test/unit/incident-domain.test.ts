import { describe, expect, it } from 'vitest';
import { reopen, slaClocks, transition, type IncidentState } from '../../src/domain/incidents/incident.js';
import { GuardiaError } from '../../src/shared/errors.js';

function incident(overrides: Partial<IncidentState> = {}): IncidentState {
  return {
    id: 7,
    status: 'triggered',
    severity: 'sev1',
    started_at: '2026-11-27T10:00:00.000Z',
    ack_due_at: '2026-11-27T10:05:00.000Z',
    mitigate_due_at: '2026-11-27T10:30:00.000Z',
    acknowledged_at: null,
    acknowledged_by: null,
    ack_implied: false,
    mitigated_at: null,
    mitigated_by: null,
    mitigation_implied: false,
    resolved_at: null,
    resolved_by: null,
    ...overrides,
  };
}

const at = (t: string) => new Date(`2026-11-27T${t}Z`);

describe('incident transitions', () => {
  it('acknowledges a triggered incident and records who and when', () => {
    const { changes, timeline } = transition(incident(), 'acknowledge', at('10:03:00'), 'alice');
    expect(changes).toMatchObject({
      status: 'acknowledged',
      acknowledged_at: '2026-11-27T10:03:00.000Z',
      acknowledged_by: 'alice',
      ack_implied: false,
    });
    expect(timeline.map((e) => e.kind)).toEqual(['acknowledged']);
  });

  it('resolving an unacknowledged incident records ack and mitigation at that moment, marked implied', () => {
    const { changes, timeline } = transition(incident(), 'resolve', at('10:20:00'), 'bob', 'false alarm');
    expect(changes).toMatchObject({
      status: 'resolved',
      acknowledged_at: '2026-11-27T10:20:00.000Z',
      ack_implied: true,
      mitigated_at: '2026-11-27T10:20:00.000Z',
      mitigation_implied: true,
      resolved_at: '2026-11-27T10:20:00.000Z',
      resolved_by: 'bob',
    });
    expect(timeline.map((e) => e.kind)).toEqual(['acknowledged', 'mitigated', 'resolved']);
    expect(timeline[2]!.message).toContain('false alarm');
  });

  it('mitigating an acknowledged incident keeps the real acknowledgement', () => {
    const acked = incident({
      status: 'acknowledged',
      acknowledged_at: '2026-11-27T10:02:00.000Z',
      acknowledged_by: 'alice',
    });
    const { changes } = transition(acked, 'mitigate', at('10:25:00'), 'alice');
    expect(changes.acknowledged_at).toBeUndefined();
    expect(changes).toMatchObject({
      status: 'mitigated',
      mitigated_at: '2026-11-27T10:25:00.000Z',
      mitigation_implied: false,
    });
  });

  it('refuses going back or repeating, naming who acted first', () => {
    const acked = incident({
      status: 'acknowledged',
      acknowledged_at: '2026-11-27T10:02:00.000Z',
      acknowledged_by: 'alice',
    });
    expect(() => transition(acked, 'acknowledge', at('10:04:00'), 'bob')).toThrowError(
      /already acknowledged by alice at 2026-11-27T10:02:00.000Z/,
    );
    const resolved = incident({ status: 'resolved' });
    try {
      transition(resolved, 'mitigate', at('10:04:00'), 'bob');
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(GuardiaError);
      expect((err as GuardiaError).code).toBe('invalid_transition');
      expect((err as GuardiaError).httpStatus).toBe(409);
    }
  });

  it('reopens only resolved incidents, restarting the clocks', () => {
    const resolved = incident({
      status: 'resolved',
      resolved_at: '2026-11-27T10:40:00.000Z',
      acknowledged_at: '2026-11-27T10:01:00.000Z',
    });
    const due = { ackDueAt: at('11:05:00'), mitigateDueAt: at('11:30:00') };
    const { changes, timeline } = reopen(resolved, at('11:00:00'), 'integration:generic', due, 'fired again');
    expect(changes).toMatchObject({
      status: 'triggered',
      acknowledged_at: null,
      resolved_at: null,
      ack_due_at: '2026-11-27T11:05:00.000Z',
    });
    expect(timeline[0]!.data).toEqual({ previous_resolved_at: '2026-11-27T10:40:00.000Z' });
    expect(() => reopen(incident(), at('11:00:00'), 'x', due, 'r')).toThrowError(/not resolved/);
  });
});

describe('SLA clocks', () => {
  it('are pending before the deadline, breached after it, met when done in time', () => {
    expect(slaClocks(incident(), at('10:04:59')).ack.state).toBe('pending');
    expect(slaClocks(incident(), at('10:05:01')).ack.state).toBe('breached');
    const ackedInTime = incident({ acknowledged_at: '2026-11-27T10:05:00.000Z' });
    expect(slaClocks(ackedInTime, at('12:00:00')).ack.state).toBe('met');
    expect(slaClocks(ackedInTime, at('12:00:00')).mitigate.state).toBe('breached');
    const late = incident({ acknowledged_at: '2026-11-27T10:06:00.000Z' });
    expect(slaClocks(late, at('10:07:00')).ack.state).toBe('breached');
  });
});

import { describe, it, expect } from 'vitest';
import { Temporal } from 'temporal-polyfill';
import { parseDuration, type PolicyDuration } from '../../src/domain/policy/duration.js';
import type { BusinessCalendar } from '../../src/domain/policy/schema.js';
import { addBusinessDays, isBusinessTime, nextBusinessOpening } from '../../src/domain/sla/business-time.js';
import { addDuration, clockState, computeDueDates } from '../../src/domain/sla/clocks.js';

function duration(text: string): PolicyDuration {
  const parsed = parseDuration(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
}

const WEEKDAYS: BusinessCalendar['working_days'] = ['mon', 'tue', 'wed', 'thu', 'fri'];

function calendar(overrides: Partial<BusinessCalendar> = {}): BusinessCalendar {
  return {
    timezone: 'Europe/Madrid',
    working_days: WEEKDAYS,
    hours: { start: '09:00', end: '18:00' },
    holidays: [],
    ...overrides,
  };
}

const madrid = calendar();
const newYork = calendar({ timezone: 'America/New_York' });
const oneBusinessDay = duration('1 business day');

/** Comments give the local time; the assertions use exact UTC instants so an offset mistake cannot hide. */
const at = (iso: string): Date => new Date(iso);
const iso = (d: Date): string => d.toISOString();

describe('wall-clock targets', () => {
  it('sev1 (ack 5m, mitigate 30m) is due 5 and 30 minutes after the start, regardless of the calendar', () => {
    const due = computeDueDates(
      at('2026-11-27T10:00:00Z'),
      { ack: duration('5m'), mitigate: duration('30m') },
      madrid,
    );
    expect(iso(due.ackDueAt)).toBe('2026-11-27T10:05:00.000Z');
    expect(iso(due.mitigateDueAt)).toBe('2026-11-27T10:30:00.000Z');
  });

  it('wall-clock durations ignore weekends and business hours', () => {
    // Saturday 2026-11-28 23:00 Madrid.
    expect(iso(addDuration(at('2026-11-28T22:00:00Z'), duration('2h'), madrid))).toBe(
      '2026-11-29T00:00:00.000Z',
    );
  });

  it('a wall-clock day across DST is 24 elapsed hours, not the same local time', () => {
    // Saturday 2026-03-28 12:00 CET (11:00Z) + 1d = 2026-03-29 11:00Z, which is 13:00 CEST.
    expect(iso(addDuration(at('2026-03-28T11:00:00Z'), duration('1d'), madrid))).toBe(
      '2026-03-29T11:00:00.000Z',
    );
  });
});

describe('business days (Mon–Fri 09:00–18:00 Europe/Madrid)', () => {
  it('sev3 "1 business day" from Friday 17:00 is Monday 17:00 local', () => {
    // Fri 2026-11-27 17:00 CET = 16:00Z → Mon 2026-11-30 17:00 CET = 16:00Z.
    const due = computeDueDates(
      at('2026-11-27T16:00:00Z'),
      { ack: duration('4h'), mitigate: oneBusinessDay },
      madrid,
    );
    expect(iso(due.mitigateDueAt)).toBe('2026-11-30T16:00:00.000Z');
    expect(iso(due.ackDueAt)).toBe('2026-11-27T20:00:00.000Z');
  });

  it('a start inside business hours keeps its wall-clock time on the next business day', () => {
    // Wed 2026-11-25 12:34:56.789 CET → Thu 12:34:56.789 CET.
    expect(iso(addBusinessDays(at('2026-11-25T11:34:56.789Z'), 1, madrid))).toBe('2026-11-26T11:34:56.789Z');
  });

  it('a Saturday start counts from Monday opening: due Tuesday 09:00', () => {
    // Sat 2026-11-28 10:00 CET → normalised Mon 30 09:00 → Tue 2026-12-01 09:00 CET = 08:00Z.
    expect(iso(addBusinessDays(at('2026-11-28T09:00:00Z'), 1, madrid))).toBe('2026-12-01T08:00:00.000Z');
  });

  it('a Sunday late-night start also counts from Monday opening', () => {
    // Sun 2026-11-29 23:30 CET → Mon 30 09:00 → Tue 2026-12-01 09:00 CET.
    expect(iso(addBusinessDays(at('2026-11-29T22:30:00Z'), 1, madrid))).toBe('2026-12-01T08:00:00.000Z');
  });

  it('a weekday 20:00 start counts from the next morning', () => {
    // Wed 2026-11-25 20:00 CET → Thu 26 09:00 → Fri 27 09:00 CET = 08:00Z.
    expect(iso(addBusinessDays(at('2026-11-25T19:00:00Z'), 1, madrid))).toBe('2026-11-27T08:00:00.000Z');
  });

  it('a weekday 07:00 start counts from the same morning', () => {
    // Wed 2026-11-25 07:00 CET → Wed 25 09:00 → Thu 26 09:00 CET = 08:00Z.
    expect(iso(addBusinessDays(at('2026-11-25T06:00:00Z'), 1, madrid))).toBe('2026-11-26T08:00:00.000Z');
  });

  it('a start exactly at closing time is outside business hours', () => {
    // Wed 2026-11-25 18:00 CET → Thu 26 09:00 → Fri 27 09:00 CET.
    expect(isBusinessTime(at('2026-11-25T17:00:00Z'), madrid)).toBe(false);
    expect(iso(addBusinessDays(at('2026-11-25T17:00:00Z'), 1, madrid))).toBe('2026-11-27T08:00:00.000Z');
  });

  it('a start exactly at opening time is inside business hours', () => {
    // Wed 2026-11-25 09:00 CET → Thu 26 09:00 CET.
    expect(isBusinessTime(at('2026-11-25T08:00:00Z'), madrid)).toBe(true);
    expect(iso(addBusinessDays(at('2026-11-25T08:00:00Z'), 1, madrid))).toBe('2026-11-26T08:00:00.000Z');
  });

  it('a Friday evening start counts from Monday opening: due Tuesday 09:00', () => {
    // Fri 2026-11-27 19:00 CET → Mon 30 09:00 → Tue 2026-12-01 09:00 CET.
    expect(iso(addBusinessDays(at('2026-11-27T18:00:00Z'), 1, madrid))).toBe('2026-12-01T08:00:00.000Z');
  });

  it('several business days skip the weekend', () => {
    // Thu 2026-11-26 11:00 CET + 3 → Fri 27, Mon 30, Tue 2026-12-01 11:00 CET = 10:00Z.
    expect(iso(addDuration(at('2026-11-26T10:00:00Z'), duration('3 business days'), madrid))).toBe(
      '2026-12-01T10:00:00.000Z',
    );
    // Fri 2026-11-27 15:00 CET + 5 → Fri 2026-12-04 15:00 CET = 14:00Z (a whole working week).
    expect(iso(addBusinessDays(at('2026-11-27T14:00:00Z'), 5, madrid))).toBe('2026-12-04T14:00:00.000Z');
  });

  it('0 business days returns the normalised start', () => {
    expect(iso(addBusinessDays(at('2026-11-25T11:00:00Z'), 0, madrid))).toBe('2026-11-25T11:00:00.000Z');
    expect(iso(addBusinessDays(at('2026-11-28T09:00:00Z'), 0, madrid))).toBe('2026-11-30T08:00:00.000Z');
  });

  it('rejects negative or fractional day counts', () => {
    expect(() => addBusinessDays(at('2026-11-25T11:00:00Z'), -1, madrid)).toThrow(RangeError);
    expect(() => addBusinessDays(at('2026-11-25T11:00:00Z'), 1.5, madrid)).toThrow(RangeError);
  });
});

describe('holidays', () => {
  const christmas = calendar({ holidays: ['2026-12-25'] });

  it('a holiday is skipped', () => {
    // Thu 2026-12-24 12:00 CET → (Fri 25 holiday, weekend) → Mon 2026-12-28 12:00 CET = 11:00Z.
    expect(iso(addBusinessDays(at('2026-12-24T11:00:00Z'), 1, christmas))).toBe('2026-12-28T11:00:00.000Z');
    // Without the holiday it would have been Friday.
    expect(iso(addBusinessDays(at('2026-12-24T11:00:00Z'), 1, madrid))).toBe('2026-12-25T11:00:00.000Z');
  });

  it('a start on a holiday counts from the next business opening', () => {
    // Fri 2026-12-25 10:00 CET (holiday) → Mon 28 09:00 → Tue 2026-12-29 09:00 CET = 08:00Z.
    expect(isBusinessTime(at('2026-12-25T09:00:00Z'), christmas)).toBe(false);
    expect(iso(addBusinessDays(at('2026-12-25T09:00:00Z'), 1, christmas))).toBe('2026-12-29T08:00:00.000Z');
  });

  it('holidays are local dates in the calendar zone, not UTC dates', () => {
    // Thu 2026-12-24 23:30Z is already Fri 25 00:30 in Madrid: the holiday, so not business time in a
    // 24-hour calendar, and the next opening is Mon 28 00:00 CET = Sun 27 23:00Z.
    const allDay = calendar({ holidays: ['2026-12-25'], hours: { start: '00:00', end: '23:59' } });
    expect(isBusinessTime(at('2026-12-24T23:30:00Z'), allDay)).toBe(false);
    expect(iso(nextBusinessOpening(at('2026-12-24T23:30:00Z'), allDay))).toBe('2026-12-27T23:00:00.000Z');
  });

  it('throws a clear error when no business day exists within the search bound', () => {
    // Only Mondays are working days, and every Monday for four years is a holiday.
    const mondays: string[] = [];
    for (let d = Temporal.PlainDate.from('2026-01-05'); d.year < 2030; d = d.add({ days: 7 })) {
      mondays.push(d.toString());
    }
    const closed = calendar({ working_days: ['mon'], holidays: mondays });
    expect(() => addBusinessDays(at('2026-01-02T10:00:00Z'), 1, closed)).toThrow(/no business day within/);
    expect(() => nextBusinessOpening(at('2026-01-02T10:00:00Z'), closed)).toThrow(/calendar\.holidays/);
  });
});

describe('DST', () => {
  it('Europe/Madrid spring-forward weekend: Fri 17:00 CET → Mon 17:00 CEST (15:00Z, not 16:00Z)', () => {
    // Clocks go forward on Sun 2026-03-29. Fri 2026-03-27 17:00 CET = 16:00Z.
    expect(iso(addBusinessDays(at('2026-03-27T16:00:00Z'), 1, madrid))).toBe('2026-03-30T15:00:00.000Z');
  });

  it('Europe/Madrid fall-back weekend: Fri 17:00 CEST → Mon 17:00 CET (16:00Z)', () => {
    // Clocks go back on Sun 2026-10-25. Fri 2026-10-23 17:00 CEST = 15:00Z.
    expect(iso(addBusinessDays(at('2026-10-23T15:00:00Z'), 1, madrid))).toBe('2026-10-26T16:00:00.000Z');
  });

  it('Europe/Madrid opening after spring-forward is 09:00 CEST', () => {
    // Sat 2026-03-28 10:00 CET → Mon 30 09:00 CEST (07:00Z) → Tue 31 09:00 CEST = 07:00Z.
    expect(iso(nextBusinessOpening(at('2026-03-28T09:00:00Z'), madrid))).toBe('2026-03-30T07:00:00.000Z');
    expect(iso(addBusinessDays(at('2026-03-28T09:00:00Z'), 1, madrid))).toBe('2026-03-31T07:00:00.000Z');
  });

  it('America/New_York spring-forward weekend: Fri 10:00 EST → Mon 10:00 EDT', () => {
    // Clocks go forward on Sun 2026-03-08. Fri 2026-03-06 10:00 EST = 15:00Z → Mon 09 10:00 EDT = 14:00Z.
    expect(iso(addBusinessDays(at('2026-03-06T15:00:00Z'), 1, newYork))).toBe('2026-03-09T14:00:00.000Z');
  });

  it('America/New_York fall-back weekend: Fri 10:00 EDT → Mon 10:00 EST', () => {
    // Clocks go back on Sun 2026-11-01. Fri 2026-10-30 10:00 EDT = 14:00Z → Mon 11-02 10:00 EST = 15:00Z.
    expect(iso(addBusinessDays(at('2026-10-30T14:00:00Z'), 1, newYork))).toBe('2026-11-02T15:00:00.000Z');
  });

  describe('business hours that include a skipped or repeated local time', () => {
    // Every day is a working day, 01:00–04:00 Madrid; on 2026-03-29 02:00–03:00 does not exist and on
    // 2026-10-25 02:00–03:00 happens twice.
    const nightShift = calendar({
      working_days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      hours: { start: '01:00', end: '04:00' },
    });

    it('a wall-clock time that does not exist on the target day moves forward by the gap (compatible)', () => {
      // Sat 2026-03-28 02:30 CET = 01:30Z → Sun 29 02:30 does not exist → 03:30 CEST = 01:30Z.
      expect(iso(addBusinessDays(at('2026-03-28T01:30:00Z'), 1, nightShift))).toBe(
        '2026-03-29T01:30:00.000Z',
      );
    });

    it('a wall-clock time that repeats on the target day takes the earlier one (compatible)', () => {
      // Sat 2026-10-24 02:30 CEST = 00:30Z → Sun 25 02:30 twice → first (CEST) = 00:30Z.
      expect(iso(addBusinessDays(at('2026-10-24T00:30:00Z'), 1, nightShift))).toBe(
        '2026-10-25T00:30:00.000Z',
      );
    });

    it('the short day keeps its real hours: 01:00 CET to 04:00 CEST', () => {
      expect(isBusinessTime(at('2026-03-28T23:59:59Z'), nightShift)).toBe(false); // 00:59:59 CET
      expect(isBusinessTime(at('2026-03-29T00:00:00Z'), nightShift)).toBe(true); // 01:00 CET
      expect(isBusinessTime(at('2026-03-29T01:59:59Z'), nightShift)).toBe(true); // 03:59:59 CEST
      expect(isBusinessTime(at('2026-03-29T02:00:00Z'), nightShift)).toBe(false); // 04:00 CEST
    });

    it('both occurrences of a repeated hour are business time on the long day', () => {
      expect(isBusinessTime(at('2026-10-25T00:30:00Z'), nightShift)).toBe(true); // 02:30 CEST
      expect(isBusinessTime(at('2026-10-25T01:30:00Z'), nightShift)).toBe(true); // 02:30 CET
      expect(isBusinessTime(at('2026-10-25T03:00:00Z'), nightShift)).toBe(false); // 04:00 CET
    });

    it('an opening time that does not exist resolves to the instant after the gap', () => {
      const lateOpening = calendar({
        working_days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
        hours: { start: '02:30', end: '05:00' },
      });
      // Sun 2026-03-29 00:00 CET = Sat 23:00Z; 02:30 does not exist → 03:30 CEST = 01:30Z.
      expect(iso(nextBusinessOpening(at('2026-03-28T23:00:00Z'), lateOpening))).toBe(
        '2026-03-29T01:30:00.000Z',
      );
      // From there one business day keeps 03:30 local: Mon 30 03:30 CEST = 01:30Z.
      expect(iso(addBusinessDays(at('2026-03-28T23:00:00Z'), 1, lateOpening))).toBe(
        '2026-03-30T01:30:00.000Z',
      );
    });
  });
});

describe('isBusinessTime / nextBusinessOpening', () => {
  it('recognises business hours in the calendar zone', () => {
    expect(isBusinessTime(at('2026-11-25T11:00:00Z'), madrid)).toBe(true); // Wed 12:00 CET
    expect(isBusinessTime(at('2026-11-25T07:59:59Z'), madrid)).toBe(false); // Wed 08:59:59 CET
    expect(isBusinessTime(at('2026-11-28T11:00:00Z'), madrid)).toBe(false); // Sat
  });

  it('returns the opening at or after the instant', () => {
    // Wed 07:00 CET → same day 09:00.
    expect(iso(nextBusinessOpening(at('2026-11-25T06:00:00Z'), madrid))).toBe('2026-11-25T08:00:00.000Z');
    // Exactly at opening → that opening.
    expect(iso(nextBusinessOpening(at('2026-11-25T08:00:00Z'), madrid))).toBe('2026-11-25T08:00:00.000Z');
    // During business hours → the next business day's opening.
    expect(iso(nextBusinessOpening(at('2026-11-25T11:00:00Z'), madrid))).toBe('2026-11-26T08:00:00.000Z');
    // Friday evening → Monday.
    expect(iso(nextBusinessOpening(at('2026-11-27T18:00:00Z'), madrid))).toBe('2026-11-30T08:00:00.000Z');
  });
});

describe('clockState', () => {
  const due = at('2026-11-27T10:05:00Z');

  it('is met when done before the due time', () => {
    expect(clockState(due, at('2026-11-27T10:03:00Z'), at('2026-11-27T12:00:00Z'))).toBe('met');
  });

  it('is met when done exactly at the due time', () => {
    expect(clockState(due, due, at('2026-11-27T12:00:00Z'))).toBe('met');
  });

  it('is breached when done late', () => {
    expect(clockState(due, at('2026-11-27T10:05:00.001Z'), at('2026-11-27T12:00:00Z'))).toBe('breached');
  });

  it('is breached when not done and overdue', () => {
    expect(clockState(due, null, at('2026-11-27T10:05:00.001Z'))).toBe('breached');
  });

  it('is pending when not done and not yet due (including exactly at the due time)', () => {
    expect(clockState(due, null, at('2026-11-27T10:04:00Z'))).toBe('pending');
    expect(clockState(due, null, due)).toBe('pending');
  });

  it('a clock met in time stays met even if evaluated long after', () => {
    expect(clockState(due, at('2026-11-27T10:00:00Z'), at('2027-01-01T00:00:00Z'))).toBe('met');
  });
});

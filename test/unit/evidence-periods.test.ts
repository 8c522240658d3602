/**
 * Evidence periods: ISO weeks and months in the policy's time zone, with week-year edges and DST. Assertions use
 * exact UTC instants so an offset mistake cannot hide.
 */
import { describe, expect, it } from 'vitest';
import {
  isoWeeksInYear,
  monthOf,
  parsePeriod,
  periodBounds,
  periodDates,
  weekOf,
  weeksOfMonth,
} from '../../src/domain/evidence/periods.js';
import { GuardiaError } from '../../src/shared/errors.js';

const at = (iso: string) => new Date(iso);
const bounds = (p: string, tz: string) => {
  const b = periodBounds(p, tz);
  return { start: b.start.toISOString(), end: b.end.toISOString() };
};

describe('weekOf / monthOf', () => {
  it('names the ISO week and month of an instant', () => {
    expect(weekOf(at('2026-11-27T10:00:00Z'), 'UTC')).toBe('2026-W48');
    expect(monthOf(at('2026-11-27T10:00:00Z'), 'UTC')).toBe('2026-11');
  });

  it('uses the ISO week-year: 2 January 2027 is in 2026-W53, 4 January 2027 starts 2027-W01', () => {
    expect(weekOf(at('2027-01-02T12:00:00Z'), 'UTC')).toBe('2026-W53');
    expect(weekOf(at('2027-01-04T00:00:00Z'), 'UTC')).toBe('2027-W01');
    // 29 December 2025 (a Monday) already belongs to 2026-W01.
    expect(weekOf(at('2025-12-29T08:00:00Z'), 'UTC')).toBe('2026-W01');
  });

  it('reads the local date in the time zone: Sunday 23:30 in Madrid is still the old week and month', () => {
    // 2026-11-29 23:30 CET (UTC+1) = 22:30Z, Sunday; 2026-11-30 00:30 CET = 23:30Z on the 29th.
    expect(weekOf(at('2026-11-29T22:30:00Z'), 'Europe/Madrid')).toBe('2026-W48');
    expect(weekOf(at('2026-11-29T23:30:00Z'), 'Europe/Madrid')).toBe('2026-W49');
    expect(weekOf(at('2026-11-29T23:30:00Z'), 'UTC')).toBe('2026-W48');
    expect(monthOf(at('2026-11-30T23:30:00Z'), 'Europe/Madrid')).toBe('2026-12');
    expect(monthOf(at('2026-12-01T03:00:00Z'), 'America/New_York')).toBe('2026-11');
  });
});

describe('periodBounds', () => {
  it('a week is Monday 00:00 local to the next Monday 00:00', () => {
    expect(bounds('2026-W48', 'UTC')).toEqual({
      start: '2026-11-23T00:00:00.000Z',
      end: '2026-11-30T00:00:00.000Z',
    });
    expect(bounds('2026-W48', 'Europe/Madrid')).toEqual({
      start: '2026-11-22T23:00:00.000Z',
      end: '2026-11-29T23:00:00.000Z',
    });
  });

  it('a month is the 1st 00:00 local to the next 1st', () => {
    expect(bounds('2026-11', 'America/New_York')).toEqual({
      start: '2026-11-01T04:00:00.000Z', // EDT until 1 Nov 02:00
      end: '2026-12-01T05:00:00.000Z', // EST
    });
    expect(bounds('2026-12', 'UTC').end).toBe('2027-01-01T00:00:00.000Z');
  });

  it('handles the week-year edge: 2026-W53 runs into 2027, 2027-W01 follows it', () => {
    expect(bounds('2026-W53', 'UTC')).toEqual({
      start: '2026-12-28T00:00:00.000Z',
      end: '2027-01-04T00:00:00.000Z',
    });
    expect(bounds('2027-W01', 'UTC').start).toBe('2027-01-04T00:00:00.000Z');
    expect(bounds('2026-W01', 'UTC').start).toBe('2025-12-29T00:00:00.000Z');
    expect(isoWeeksInYear(2026)).toBe(53);
    expect(isoWeeksInYear(2025)).toBe(52);
  });

  it('is DST-correct: the spring-forward week is 167 hours, the fall-back week 169', () => {
    const hours = (p: string) => {
      const b = periodBounds(p, 'Europe/Madrid');
      return (b.end.getTime() - b.start.getTime()) / 3_600_000;
    };
    expect(hours('2026-W13')).toBe(167); // clocks go forward on Sunday 29 March 2026
    expect(hours('2026-W43')).toBe(169); // and back on Sunday 25 October 2026
    expect(hours('2026-W48')).toBe(168);
    expect(bounds('2026-W14', 'Europe/Madrid').start).toBe('2026-03-29T22:00:00.000Z'); // Monday 00:00 CEST
  });

  it('a period whose first midnight is skipped by DST starts at the first instant of that day', () => {
    // Asunción sprang forward at 00:00 on Sunday 1 October 2017: the month began at 01:00 -03.
    expect(bounds('2017-10', 'America/Asuncion').start).toBe('2017-10-01T04:00:00.000Z');
    // Tehran sprang forward at 00:00 on Monday 21 March 2016: ISO week 12 began at 01:00 +04:30.
    expect(bounds('2016-W12', 'Asia/Tehran').start).toBe('2016-03-20T20:30:00.000Z');
    expect(periodDates('2016-W12')).toEqual({ first: '2016-03-21', last: '2016-03-27' });
  });
});

describe('parsePeriod', () => {
  it('accepts weeks and months and canonicalizes them', () => {
    expect(parsePeriod('2026-W48')).toEqual({ kind: 'week', year: 2026, week: 48, text: '2026-W48' });
    expect(parsePeriod(' 2026-w05 ')).toMatchObject({ kind: 'week', text: '2026-W05' });
    expect(parsePeriod('2026-11')).toEqual({ kind: 'month', year: 2026, month: 11, text: '2026-11' });
  });

  it.each([
    ['junk', 'is not a period'],
    ['2026-W54', 'has weeks 01 to 53'],
    ['2025-W53', 'ISO year 2025 has weeks 01 to 52'],
    ['2026-W00', 'does not exist'],
    ['2026-13', 'month 13 does not exist'],
    ['2026-00', 'month 0 does not exist'],
    ['26-11', 'is not a period'],
    ['', 'is not a period'],
  ])('refuses %j with a clear invalid_input error', (input, message) => {
    let error: unknown;
    try {
      parsePeriod(input, 'week');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GuardiaError);
    const e = error as GuardiaError;
    expect(e.code).toBe('invalid_input');
    expect(e.message).toContain(message);
    expect(e.details).toEqual({
      issues: [expect.objectContaining({ field: 'week', expected: expect.stringContaining('2026-W48') })],
    });
  });
});

describe('weeksOfMonth', () => {
  it('lists every ISO week that overlaps the month, including weeks shared with the next or previous month', () => {
    expect(weeksOfMonth('2026-11')).toEqual([
      '2026-W44',
      '2026-W45',
      '2026-W46',
      '2026-W47',
      '2026-W48',
      '2026-W49',
    ]);
    expect(weeksOfMonth('2027-01')).toEqual(['2026-W53', '2027-W01', '2027-W02', '2027-W03', '2027-W04']);
    expect(weeksOfMonth('2026-02')).toEqual(['2026-W05', '2026-W06', '2026-W07', '2026-W08', '2026-W09']);
  });

  it('refuses a week', () => {
    expect(() => weeksOfMonth('2026-W48')).toThrow(/expected a month/);
  });
});

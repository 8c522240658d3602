/**
 * Evidence periods (DESIGN.md §2): ISO weeks ("2026-W48") and calendar months ("2026-11") in the policy's time
 * zone. A week runs from Monday 00:00 local time to the next Monday 00:00; a month from the 1st 00:00 to the next
 * month's 1st. Bounds are instants, so a period in a DST zone is 167 or 169 hours long when the clocks change
 * inside it. All zone arithmetic goes through Temporal; nothing here reads the clock.
 */
import { Temporal } from 'temporal-polyfill';
import { invalidInput } from '../../shared/errors.js';

export type PeriodKind = 'week' | 'month';

/** A parsed period. `text` is its canonical form ("2026-W05", "2026-01"). */
export type Period =
  | { kind: 'week'; year: number; week: number; text: string }
  | { kind: 'month'; year: number; month: number; text: string };

/** Start (inclusive) and end (exclusive) of a period, as instants. */
export interface PeriodBounds {
  start: Date;
  end: Date;
}

const WEEK = /^(\d{4})-W(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const EXPECTED = 'an ISO week like "2026-W48" or a month like "2026-11"';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The number of ISO weeks in an ISO week-year: 53 when 28 December falls in week 53, else 52. */
export function isoWeeksInYear(year: number): number {
  return Temporal.PlainDate.from({ year, month: 12, day: 28 }).weekOfYear ?? 52;
}

/**
 * Parses "2026-W48" or "2026-11" (surrounding spaces and a lowercase "w" are tolerated).
 * @throws GuardiaError invalid_input naming the field, what is expected and what was given.
 */
export function parsePeriod(input: string, field = 'period'): Period {
  const text = input.trim().toUpperCase();
  const fail = (message: string) =>
    invalidInput([{ field, message, expected: EXPECTED, received: JSON.stringify(input) }]);
  const week = WEEK.exec(text);
  if (week) {
    const year = Number(week[1]);
    const w = Number(week[2]);
    const max = isoWeeksInYear(year);
    if (w < 1 || w > max) throw fail(`week ${w} does not exist: ISO year ${year} has weeks 01 to ${max}`);
    return { kind: 'week', year, week: w, text: `${year}-W${pad2(w)}` };
  }
  const month = MONTH.exec(text);
  if (month) {
    const year = Number(month[1]);
    const m = Number(month[2]);
    if (m < 1 || m > 12) throw fail(`month ${m} does not exist: expected 01 to 12`);
    return { kind: 'month', year, month: m, text: `${year}-${pad2(m)}` };
  }
  throw fail(`"${input}" is not a period: expected ${EXPECTED}`);
}

function zoned(instant: Date, timeZone: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(instant.getTime()).toZonedDateTimeISO(timeZone);
}

/** The ISO week containing `instant` in `timeZone`, e.g. "2026-W48" (the week-year may differ from the year). */
export function weekOf(instant: Date, timeZone: string): string {
  const z = zoned(instant, timeZone);
  return `${z.yearOfWeek}-W${pad2(z.weekOfYear ?? 1)}`;
}

/** The month containing `instant` in `timeZone`, e.g. "2026-11". */
export function monthOf(instant: Date, timeZone: string): string {
  const z = zoned(instant, timeZone);
  return `${z.year}-${pad2(z.month)}`;
}

/** The first day (a Monday) of an ISO week: week 1 is the week holding 4 January. */
function mondayOf(year: number, week: number): Temporal.PlainDate {
  const jan4 = Temporal.PlainDate.from({ year, month: 1, day: 4 });
  return jan4.subtract({ days: jan4.dayOfWeek - 1 }).add({ weeks: week - 1 });
}

/** Local midnight of a date as an instant (a zone whose midnight is skipped by DST starts at its first instant). */
function startOfDay(date: Temporal.PlainDate, timeZone: string): Date {
  return new Date(date.toZonedDateTime({ timeZone }).epochMilliseconds);
}

/** The first and last local dates of a period (both inclusive). */
export function periodDates(period: Period | string): { first: string; last: string } {
  const p = typeof period === 'string' ? parsePeriod(period) : period;
  if (p.kind === 'week') {
    const monday = mondayOf(p.year, p.week);
    return { first: monday.toString(), last: monday.add({ days: 6 }).toString() };
  }
  const first = Temporal.PlainDate.from({ year: p.year, month: p.month, day: 1 });
  return { first: first.toString(), last: first.add({ months: 1 }).subtract({ days: 1 }).toString() };
}

/** Start (local 00:00 of its first day) and end (local 00:00 of the day after its last) of a period. */
export function periodBounds(period: Period | string, timeZone: string): PeriodBounds {
  const { first, last } = periodDates(period);
  return {
    start: startOfDay(Temporal.PlainDate.from(first), timeZone),
    end: startOfDay(Temporal.PlainDate.from(last).add({ days: 1 }), timeZone),
  };
}

/**
 * The ISO weeks that overlap a month (a week straddling two months belongs to both), oldest first. Weeks and
 * months are both counted on local dates, so this needs no time zone.
 */
export function weeksOfMonth(month: Period | string): string[] {
  const p = typeof month === 'string' ? parsePeriod(month) : month;
  if (p.kind !== 'month')
    throw invalidInput([
      { field: 'month', message: 'expected a month', expected: 'a month like "2026-11"', received: p.text },
    ]);
  const { first, last } = periodDates(p);
  const weeks: string[] = [];
  const end = Temporal.PlainDate.from(last);
  for (
    let d = Temporal.PlainDate.from(first);
    Temporal.PlainDate.compare(d, end) <= 0;
    d = d.add({ days: 1 })
  ) {
    const week = `${d.yearOfWeek}-W${pad2(d.weekOfYear ?? 1)}`;
    if (weeks[weeks.length - 1] !== week) weeks.push(week);
  }
  return weeks;
}

/** The current week and month at `now` in `timeZone`. */
export function currentPeriods(now: Date, timeZone: string): { week: string; month: string } {
  return { week: weekOf(now, timeZone), month: monthOf(now, timeZone) };
}

/** The period of the same kind that contains `now` (for "the period defaults to the current one"). */
export function currentPeriodOfKind(kind: PeriodKind, now: Date, timeZone: string): string {
  return kind === 'week' ? weekOf(now, timeZone) : monthOf(now, timeZone);
}

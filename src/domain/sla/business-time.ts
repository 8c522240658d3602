/**
 * Business-time arithmetic on the policy's calendar (DESIGN.md §2): "1 business day" means the same wall-clock
 * time, in the calendar's zone, on the next business day; a start outside business hours counts from the next
 * opening. All zone arithmetic goes through Temporal so DST shifts come from the IANA database, never from
 * hand-rolled offsets.
 */
import { Temporal } from 'temporal-polyfill';
import type { BusinessCalendar } from '../policy/schema.js';

/**
 * How far ahead we look for a business day before declaring the calendar unusable. Without a bound, a calendar
 * whose every working day is a holiday would loop forever; three years is far beyond any real SLA.
 */
const SEARCH_LIMIT_DAYS = 3 * 366;

/** Temporal's `dayOfWeek` is 1 (Monday) … 7 (Sunday); index 0 is Monday. */
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** The calendar pre-parsed once per call, so day-by-day loops don't re-parse strings. */
interface ResolvedCalendar {
  timeZone: string;
  workingDays: ReadonlySet<string>;
  holidays: ReadonlySet<string>;
  open: Temporal.PlainTime;
  close: Temporal.PlainTime;
}

function resolve(calendar: BusinessCalendar): ResolvedCalendar {
  return {
    timeZone: calendar.timezone,
    workingDays: new Set(calendar.working_days),
    holidays: new Set(calendar.holidays),
    open: Temporal.PlainTime.from(calendar.hours.start),
    close: Temporal.PlainTime.from(calendar.hours.end),
  };
}

function isBusinessDay(date: Temporal.PlainDate, cal: ResolvedCalendar): boolean {
  return cal.workingDays.has(WEEKDAYS[date.dayOfWeek - 1] ?? '') && !cal.holidays.has(date.toString());
}

/**
 * A local wall-clock time on a date, as an instant. 'compatible' is spelled out because it is the decided rule:
 * a time skipped by spring-forward moves later by the gap, a time repeated by fall-back takes the earlier one.
 */
function atLocal(
  date: Temporal.PlainDate,
  time: Temporal.PlainTime,
  cal: ResolvedCalendar,
): Temporal.ZonedDateTime {
  return date.toPlainDateTime(time).toZonedDateTime(cal.timeZone, { disambiguation: 'compatible' });
}

function toZoned(at: Date, cal: ResolvedCalendar): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(cal.timeZone);
}

function toDate(zdt: Temporal.ZonedDateTime): Date {
  return new Date(zdt.epochMilliseconds);
}

/** The first business day strictly after `date`; throws if the calendar has none within the search bound. */
function nextBusinessDay(date: Temporal.PlainDate, cal: ResolvedCalendar): Temporal.PlainDate {
  let day = date;
  for (let i = 0; i < SEARCH_LIMIT_DAYS; i++) {
    day = day.add({ days: 1 });
    if (isBusinessDay(day, cal)) return day;
  }
  throw new Error(
    `business calendar has no business day within ${SEARCH_LIMIT_DAYS} days after ${date.toString()} ` +
      `(working_days: ${[...cal.workingDays].join(', ')}; ${cal.holidays.size} holidays); ` +
      'check calendar.working_days and calendar.holidays',
  );
}

/**
 * Compares instants rather than wall-clock times so that a day shortened or lengthened by DST keeps exactly the
 * real hours between its opening and closing.
 */
function isOpenAt(zdt: Temporal.ZonedDateTime, cal: ResolvedCalendar): boolean {
  const date = zdt.toPlainDate();
  if (!isBusinessDay(date, cal)) return false;
  const ns = zdt.epochNanoseconds;
  return (
    atLocal(date, cal.open, cal).epochNanoseconds <= ns && ns < atLocal(date, cal.close, cal).epochNanoseconds
  );
}

function openingAtOrAfter(zdt: Temporal.ZonedDateTime, cal: ResolvedCalendar): Temporal.ZonedDateTime {
  const date = zdt.toPlainDate();
  if (isBusinessDay(date, cal)) {
    const open = atLocal(date, cal.open, cal);
    if (Temporal.ZonedDateTime.compare(zdt, open) <= 0) return open;
  }
  return atLocal(nextBusinessDay(date, cal), cal.open, cal);
}

/**
 * Whether `at` falls within business hours: on a working day that is not a holiday, at or after the opening and
 * strictly before the closing (closing time itself is outside, so work started then counts from the next opening).
 */
export function isBusinessTime(at: Date, calendar: BusinessCalendar): boolean {
  const cal = resolve(calendar);
  return isOpenAt(toZoned(at, cal), cal);
}

/**
 * The earliest business-day opening at or after `at` (an instant exactly at an opening is its own opening).
 * When `at` is inside business hours this is the *next* day's opening; callers that want "now, if open" should
 * check {@link isBusinessTime} first.
 * @throws Error if the calendar has no business day within about three years.
 */
export function nextBusinessOpening(at: Date, calendar: BusinessCalendar): Date {
  const cal = resolve(calendar);
  return toDate(openingAtOrAfter(toZoned(at, cal), cal));
}

/**
 * Adds `days` business days to `start` on `calendar`.
 *
 * The start is first normalised: kept if within business hours, otherwise moved to the next opening. Then each
 * day steps to the next business day at the same local wall-clock time, so "1 business day" from Friday 17:00
 * is Monday 17:00 in the calendar's zone whatever DST did over the weekend. A wall-clock time that does not
 * exist or repeats on the target date resolves with Temporal's 'compatible' disambiguation.
 *
 * @param days a non-negative integer; 0 returns the normalised start.
 * @throws RangeError for a negative or fractional `days`; Error if the calendar has no business day within
 *   about three years (e.g. every working day is a holiday).
 */
export function addBusinessDays(start: Date, days: number, calendar: BusinessCalendar): Date {
  if (!Number.isInteger(days) || days < 0) {
    throw new RangeError(`business days must be a non-negative integer, got ${days}`);
  }
  const cal = resolve(calendar);
  const zoned = toZoned(start, cal);
  const from = isOpenAt(zoned, cal) ? zoned : openingAtOrAfter(zoned, cal);
  // Keep the local wall-clock time, not the elapsed hours: a deadline must not drift by an hour across DST.
  const wallTime = from.toPlainTime();
  let date = from.toPlainDate();
  for (let i = 0; i < days; i++) date = nextBusinessDay(date, cal);
  return days === 0 ? toDate(from) : toDate(atLocal(date, wallTime, cal));
}

/**
 * Times as on-call people type and read them: "2026-11-29 03:00" means 03:00 on the policy's wall clock, and
 * answers show the local time with its UTC offset so nobody has to convert. Temporal does the zone arithmetic.
 */
import { Temporal } from 'temporal-polyfill';

const WEEKDAY = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
/** A date and time without an offset: read on the policy's wall clock. */
const LOCAL = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?$/;
/** An instant: date, time and an explicit offset or Z. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses a time given on the command line: an ISO-8601 instant ("2026-11-29T03:00:00Z", "…+01:00"), or a local
 * date and time ("2026-11-29 03:00", "2026-11-29T03:00", "2026-11-29" = midnight) in `timeZone`. A local time
 * skipped or repeated by a DST change resolves like hand-offs do (Temporal's 'compatible').
 */
export function parseTimeInput(text: string, timeZone: string): Date | { error: string } {
  const input = text.trim();
  const expected = `expected an ISO-8601 time like "2026-11-29T03:00:00Z" or a local time like "2026-11-29 03:00" (read in ${timeZone})`;
  try {
    if (INSTANT.test(input)) return new Date(Temporal.Instant.from(input).epochMilliseconds);
    const m = LOCAL.exec(input);
    if (m) {
      const local = Temporal.PlainDateTime.from(`${m[1]}T${m[2] ?? '00:00'}`);
      return new Date(local.toZonedDateTime(timeZone, { disambiguation: 'compatible' }).epochMilliseconds);
    }
  } catch {
    return { error: `${expected}; got "${text}", which is not a valid date or time` };
  }
  return { error: `${expected}; got "${text}"` };
}

/** "Sun 2026-11-29 03:00 (+00:00)": the wall-clock time in `timeZone`, with the offset in force then. */
export function formatLocal(at: Date, timeZone: string): string {
  const z = Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(timeZone);
  const time = `${String(z.hour).padStart(2, '0')}:${String(z.minute).padStart(2, '0')}`;
  return `${WEEKDAY[z.dayOfWeek - 1]} ${z.toPlainDate().toString()} ${time} (${z.offset})`;
}

/** "T+0m", "T+5m", "T+1h30m", "T+2d3h": how long after the incident's start something happens. */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let minutes = Math.round(Math.abs(ms) / 60_000);
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  const parts = [days ? `${days}d` : '', hours ? `${hours}h` : '', minutes ? `${minutes}m` : ''].join('');
  return `T${sign}${parts || '0m'}`;
}

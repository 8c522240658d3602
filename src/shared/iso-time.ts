/**
 * `Date.prototype.toISOString`, faster. V8 formats ISO strings through a printf-style formatter that costs ~6,700
 * instructions a call; ingest stamps ~9 per new alert (received, started, due dates, timers, timeline), which made
 * it 8% of the instructions an alert costs (bench/ingest-instructions.ts). This computes the same string from the
 * time value with integer arithmetic. Used on the paths that run per alert and per page; elsewhere
 * `toISOString` is fine.
 */

const DAY_MS = 86_400_000;
/** Beyond 9999-12-31T23:59:59.999Z the year needs a sign and six digits: left to `toISOString`. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_800_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : `${n}`));

// Ingest stamps the same instant several times per alert (and per batch): the last answer is kept.
let lastMs = Number.NaN;
let lastIso = '';

/** The same string as `date.toISOString()` (and the same RangeError for an invalid date). */
export function isoString(date: Date): string {
  const ms = date.getTime();
  if (ms === lastMs) return lastIso;
  if (!(ms >= 0 && ms < LAST_FOUR_DIGIT_YEAR_MS)) return date.toISOString();
  // Civil date from days since 1970-01-01: Howard Hinnant's civil_from_days (proleptic Gregorian, UTC).
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1_460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1_000);
  const millis = rest - seconds * 1_000;
  // From 1970 on, the year has four digits.
  const iso =
    `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:` +
    `${TWO_DIGITS[seconds]}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
  lastMs = ms;
  lastIso = iso;
  return iso;
}

/**
 * Time is a parameter (DESIGN.md §3 principle 2): domain code receives `now`, services receive a Clock.
 * Scenario tests use FakeClock to advance time deterministically.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  private current: number;

  constructor(start: Date | string) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

/** ISO-8601 UTC with milliseconds: the fixed-width form in which the store keeps every timestamp. */
export function iso(date: Date): string {
  return date.toISOString();
}

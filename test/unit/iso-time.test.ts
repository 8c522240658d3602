/**
 * `isoString` replaces `toISOString` on the per-alert paths, so it must give the very same string for every
 * instant Guardia stamps, and behave the same outside the range it computes itself.
 */
import { describe, expect, it } from 'vitest';
import { isoString } from '../../src/shared/iso-time.js';

/** A small seeded generator, so a failure names an instant that can be tried again. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('isoString', () => {
  it('matches toISOString for 200,000 instants between 1970 and 9999', () => {
    const random = seeded(20261129);
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    const mismatches: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const date = new Date(Math.floor(random() * (last + 1)));
      if (isoString(date) !== date.toISOString()) mismatches.push(`${date.getTime()}: ${isoString(date)}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('matches on the edges: the epoch, leap days, century years, the end of a year, the last four-digit year', () => {
    const edges = [
      '1970-01-01T00:00:00.000Z',
      '1972-02-29T12:00:00.001Z',
      '1999-12-31T23:59:59.999Z',
      '2000-02-29T23:59:59.999Z',
      '2000-03-01T00:00:00.000Z',
      '2026-11-27T10:05:00.000Z',
      '2100-02-28T23:59:59.999Z',
      '2100-03-01T00:00:00.010Z',
      '2400-02-29T00:00:00.100Z',
      '9999-12-31T23:59:59.999Z',
    ];
    expect(edges.map((iso) => isoString(new Date(iso)))).toEqual(edges);
  });

  it('gives the same answer twice in a row (the last answer is kept) and for a different instant after', () => {
    const a = new Date('2026-11-29T12:00:00.000Z');
    expect([isoString(a), isoString(new Date(a)), isoString(new Date(a.getTime() + 1))]).toEqual([
      '2026-11-29T12:00:00.000Z',
      '2026-11-29T12:00:00.000Z',
      '2026-11-29T12:00:00.001Z',
    ]);
  });

  it('outside 1970–9999 answers as toISOString does, and an invalid date throws the same RangeError', () => {
    for (const date of [new Date(-1), new Date('1900-01-01T00:00:00Z'), new Date(Date.UTC(10_000, 0, 1))])
      expect(isoString(date)).toBe(date.toISOString());
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError);
  });
});

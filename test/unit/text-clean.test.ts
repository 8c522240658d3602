/**
 * Text as the store keeps it (src/shared/text.ts): NUL and lone surrogates become U+FFFD before anything is written,
 * and a row with nothing to clean goes through untouched (the ingest path cleans every row it writes).
 */
import { describe, expect, it } from 'vitest';
import { cleanRow, cleanText } from '../../src/shared/text.js';

describe('cleanText', () => {
  it('replaces NUL characters and lone surrogates with U+FFFD, and keeps well-formed text as it is', () => {
    expect(cleanText('a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD');
    expect(cleanText('x\ud800y')).toBe('x\uFFFDy');
    expect(cleanText('end\udc00')).toBe('end\uFFFD');
    expect(cleanText('\u0000\ud83d')).toBe('\uFFFD\uFFFD');
    expect(cleanText('café 🚨 ok')).toBe('café 🚨 ok');
  });
});

describe('cleanRow', () => {
  it('cleans every string column into a copy and leaves the row given unchanged', () => {
    const row = { title: 'disk\u0000full', source: 'ok', count: 3, details: 'x\ud800', missing: null };
    const cleaned = cleanRow(row);
    expect(cleaned).toEqual({
      title: 'disk\uFFFDfull',
      source: 'ok',
      count: 3,
      details: 'x\uFFFD',
      missing: null,
    });
    expect(cleaned).not.toBe(row);
    expect(row.title).toBe('disk\u0000full');
  });

  it('returns the same row when nothing needs cleaning', () => {
    const row = { title: 'High CPU', count: 1, at: '2026-11-29T08:00:00.000Z' };
    expect(cleanRow(row)).toBe(row);
  });
});

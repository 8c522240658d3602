import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lineTime,
  logFilesOf,
  scanLogFile,
  scrubCredentials,
  type LogRecord,
} from '../../../src/playbooks/probes/logs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'guardia-logs-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-28T00:00:00Z');

describe('log window scan', () => {
  it('reads only the window at the end of a large file, newest first, tolerating non-JSON lines', async () => {
    const lines: string[] = [];
    // 20,000 old lines (one per second from T0), then the window: 50 lines in the last minute with non-JSON noise.
    for (let i = 0; i < 20_000; i++)
      lines.push(JSON.stringify({ level: 30, time: T0 + i * 1000, msg: `old ${i}` }));
    const now = T0 + 20_000 * 1000 + 3_600_000;
    for (let i = 0; i < 50; i++) {
      lines.push(JSON.stringify({ level: 30, time: now - 50_000 + i * 1000, msg: `recent ${i} ñandú` }));
      if (i % 10 === 0) lines.push(`plain text line ${i}`);
    }
    const file = path.join(dir, 'big.log');
    await writeFile(file, `${lines.join('\n')}\n`);
    const seen: LogRecord[] = [];
    const stats = await scanLogFile(file, { since: now - 60_000, chunkBytes: 4096 }, (r) => seen.push(r));
    expect(stats.reachedWindowStart).toBe(true);
    expect(stats.bytesRead).toBeLessThan(stats.sizeBytes / 10);
    const json = seen.filter((r) => r.json);
    expect(json).toHaveLength(50);
    expect(json[0]!.json!.msg).toBe('recent 49 ñandú');
    expect(json.at(-1)!.json!.msg).toBe('recent 0 ñandú');
    expect(seen.filter((r) => !r.json).map((r) => r.raw)).toEqual([
      'plain text line 40',
      'plain text line 30',
      'plain text line 20',
      'plain text line 10',
      'plain text line 0',
    ]);
  });

  it('reads a whole small file, CRLF and a last line without newline included', async () => {
    const file = path.join(dir, 'small.log');
    await writeFile(
      file,
      [JSON.stringify({ time: T0, msg: 'a' }), 'not json {', JSON.stringify({ time: T0 + 1, msg: 'b' })].join(
        '\r\n',
      ),
    );
    const seen: string[] = [];
    const stats = await scanLogFile(file, { since: 0, chunkBytes: 7 }, (r) => seen.push(r.raw));
    expect(seen).toEqual([
      JSON.stringify({ time: T0 + 1, msg: 'b' }),
      'not json {',
      JSON.stringify({ time: T0, msg: 'a' }),
    ]);
    expect(stats.reachedWindowStart).toBe(true);
  });

  it('reports a missing file instead of throwing', async () => {
    const stats = await scanLogFile(path.join(dir, 'nope.log'), { since: 0 }, () => undefined);
    expect(stats.error).toBe('ENOENT');
  });

  it('reads pino times in ms, seconds and ISO, and splits a file list', () => {
    expect(lineTime({ time: T0 })).toBe(T0);
    expect(lineTime({ time: T0 / 1000 })).toBe(T0);
    expect(lineTime({ time: '2026-11-28T00:00:00.000Z' })).toBe(T0);
    expect(lineTime({ msg: 'x' })).toBeUndefined();
    expect(logFilesOf(' a.log, b.log ,')).toEqual(['a.log', 'b.log']);
    expect(logFilesOf(undefined)).toEqual([]);
  });

  it('scrubs credentials from free text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwidGlkIjoxfQ.Zm9vYmFyYmF6cXV4';
    const out = scrubCredentials(
      `cookie session=${jwt}.c2ln; Authorization: Bearer abcdefghijklmnop mysql://app:s3cr3t@db/app`,
    );
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('abcdefghijklmnop');
    expect(out).not.toContain('s3cr3t');
    expect(out).toContain('mysql://app:<redacted>@db/app');
  });
});

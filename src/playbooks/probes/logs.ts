/**
 * Reading the app's JSON log (pino: one object per line, `time` in epoch ms or ISO) over a time window without
 * reading the whole file: the file is read backwards in chunks from its end, and reading stops at the first line
 * older than the window (minus a little slack for lines written slightly out of order). Lines that are not JSON
 * (a stack printed by a crashing process, a banner) are passed on with no time and never stop the scan.
 */
import { open } from 'node:fs/promises';

export interface LogRecord {
  /** The line as written (may hold anything: scrub it before showing it). */
  raw: string;
  /** The parsed object, when the line is a JSON object. */
  json?: Record<string, unknown>;
  /** Epoch ms from `time`, when present and readable. */
  time?: number;
  file: string;
}

export interface LogWindow {
  /** Epoch ms: lines older than this are outside the window. */
  since: number;
  /** Epoch ms: lines newer than this are outside the window (default: no upper bound). */
  until?: number;
  /** Keep reading this far past `since` before stopping (default 60 s). */
  slackMs?: number;
  /** Stop after this many bytes per file (default 512 MiB). */
  maxBytes?: number;
  chunkBytes?: number;
}

export interface LogScanStats {
  file: string;
  bytesRead: number;
  sizeBytes: number;
  linesInWindow: number;
  /** true when the scan reached a line older than the window (so the whole window was read). */
  reachedWindowStart: boolean;
  error?: string;
}

/** `targets.logFile` may name several files separated by commas (one per instance). */
export function logFilesOf(logFile: string | undefined): string[] {
  return (logFile ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
}

/** The time of a pino line: `time` as epoch ms (number or numeric string) or an ISO date. */
export function lineTime(json: Record<string, unknown>): number | undefined {
  const t = json.time ?? json.timestamp ?? json['@timestamp'];
  if (typeof t === 'number' && Number.isFinite(t)) return t < 1e12 ? t * 1000 : t;
  if (typeof t === 'string') {
    if (/^\d+(\.\d+)?$/.test(t)) return lineTime({ time: Number(t) });
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export function parseLogLine(raw: string, file: string): LogRecord {
  const trimmed = raw.trim();
  if (trimmed.startsWith('{')) {
    try {
      const json = JSON.parse(trimmed) as unknown;
      if (json && typeof json === 'object' && !Array.isArray(json)) {
        const obj = json as Record<string, unknown>;
        const time = lineTime(obj);
        return time === undefined ? { raw, json: obj, file } : { raw, json: obj, time, file };
      }
    } catch {
      // not JSON after all
    }
  }
  return { raw, file };
}

/** Calls `onLine` for every line of `file` inside the window, newest first. A missing file is reported in the
 *  stats (error), not thrown. */
export async function scanLogFile(
  file: string,
  window: LogWindow,
  onLine: (rec: LogRecord) => void,
): Promise<LogScanStats> {
  const slack = window.slackMs ?? 60_000;
  const maxBytes = window.maxBytes ?? 512 * 1024 * 1024;
  const chunkBytes = window.chunkBytes ?? 64 * 1024;
  const stats: LogScanStats = {
    file,
    bytesRead: 0,
    sizeBytes: 0,
    linesInWindow: 0,
    reachedWindowStart: false,
  };
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    stats.error = (err as NodeJS.ErrnoException).code ?? 'cannot open';
    return stats;
  }
  try {
    const size = (await handle.stat()).size;
    stats.sizeBytes = size;
    let position = size;
    let carry: Buffer = Buffer.alloc(0);
    const handleLine = (buf: Buffer): boolean => {
      if (buf.length === 0) return true;
      const rec = parseLogLine(buf.toString('utf8'), file);
      if (rec.time !== undefined) {
        if (rec.time < window.since - slack) {
          stats.reachedWindowStart = true;
          return false;
        }
        if (rec.time < window.since) return true;
        if (window.until !== undefined && rec.time > window.until) return true;
      }
      stats.linesInWindow++;
      onLine(rec);
      return true;
    };
    while (position > 0 && stats.bytesRead < maxBytes) {
      const length = Math.min(chunkBytes, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      stats.bytesRead += length;
      const data = carry.length ? Buffer.concat([chunk, carry]) : chunk;
      // Lines complete in `data` are those after its first newline (unless we are at the file's start).
      let end = data.length;
      for (let i = data.length - 1; i >= 0; i--) {
        if (data[i] !== 0x0a) continue;
        if (!handleLine(trimCr(data.subarray(i + 1, end)))) return stats;
        end = i;
      }
      carry = Buffer.from(data.subarray(0, end));
    }
    if (position === 0) {
      if (carry.length && !handleLine(trimCr(carry))) return stats;
      stats.reachedWindowStart = true;
    }
    return stats;
  } finally {
    await handle.close();
  }
}

function trimCr(b: Buffer): Buffer {
  return b.length && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
}

/** `scanLogFile` over several files (concurrently); `onLine` sees each file's lines newest first. */
export async function scanLogs(
  files: readonly string[],
  window: LogWindow,
  onLine: (rec: LogRecord) => void,
): Promise<LogScanStats[]> {
  return Promise.all(files.map((f) => scanLogFile(f, window, onLine)));
}

/** Strings that look like credentials inside free text (a JWT, a signed cookie, a bearer token): replaced before a
 *  log line or an error message goes into a finding, on top of the runner's scrub of known secrets. */
export function scrubCredentials(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '<redacted-jwt>')
    .replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1<redacted>')
    .replace(/((?:session|sid|token|cookie)=)[^\s;,"']{8,}/gi, '$1<redacted>')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)[^@\s]+@/gi, '$1<redacted>@');
}

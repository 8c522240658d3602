/**
 * pino JSON lines to LOG_FILE (or stdout), and the input summary that "procedure failed" lines carry: the shape
 * of the payload (keys, types, lengths, numbers) without its strings, so no password, token or personal data
 * reaches the log.
 */
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { Config } from './config.js';

export function createLogger(config: Config, instance: () => string): Logger {
  const options: LoggerOptions = {
    level: process.env.LOG_LEVEL || 'info',
    mixin: () => ({ instance: instance() }),
    // Lines built here pass `err` as a ready {type, message, stack}; Errors (fastify's own lines) are serialized.
    serializers: { err: (e: unknown) => (e instanceof Error ? pino.stdSerializers.err(e) : e) },
    // Belt and braces: nothing logs these, and if something ever did, they would not reach the file.
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        'res.headers["set-cookie"]',
        'password',
        '*.password',
        'token',
        '*.token',
      ],
      censor: '<redacted>',
    },
  };
  const destination = config.logFile
    ? pino.destination({ dest: config.logFile, sync: true, mkdir: true })
    : pino.destination({ dest: 1, sync: true });
  return pino(options, destination);
}

const SENSITIVE = /pass|secret|token|cookie|session|authorization|api[-_]?key/i;
const MAX_DEPTH = 4;
const MAX_KEYS = 20;
const MAX_ITEMS = 3;

/** The payload's shape: numbers and booleans kept, strings reduced to `string(N)`, sensitive keys `<redacted>`,
 *  arrays to their length and first items, `missing` naming keys absent from some items of an array of objects. */
export function summarizeInput(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return `string(${value.length})`;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `array(${value.length})` : typeof value;
  if (Array.isArray(value)) {
    const summary: Record<string, unknown> = {
      length: value.length,
      items: value.slice(0, MAX_ITEMS).map((v) => summarizeInput(v, depth + 1)),
    };
    const objects = value.filter(
      (v): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v),
    );
    if (objects.length > 0) {
      const keys = new Set(objects.flatMap((o) => Object.keys(o)));
      const missing: Record<string, number> = {};
      for (const k of keys) {
        const absent = value.filter(
          (v) => !v || typeof v !== 'object' || (v as Record<string, unknown>)[k] == null,
        );
        if (absent.length > 0) missing[SENSITIVE.test(k) ? '<redacted>' : k] = absent.length;
      }
      if (Object.keys(missing).length > 0) summary.missing = missing;
    }
    return summary;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value).slice(0, MAX_KEYS))
      out[k] = SENSITIVE.test(k) ? '<redacted>' : summarizeInput(v, depth + 1);
    return out;
  }
  return typeof value;
}

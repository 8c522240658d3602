/**
 * Keeping secrets out of every playbook output. Checks never copy a secret into a finding; the runner still
 * scrubs every finding with `redactDeep` before anything is printed or stored, because a probe can echo a secret
 * back (a DSN in a driver's error message, a token in a log line).
 */
import { createHmac } from 'node:crypto';

export const REDACTED = '<redacted>';

/** A secret's fingerprint: HMAC-SHA256 keyed "guardia-fingerprint", hex, first 16 characters. Two instances with
 *  the same secret report the same fingerprint; the fingerprint does not reveal the secret. */
export function fingerprint(secret: string): string {
  return createHmac('sha256', 'guardia-fingerprint').update(secret).digest('hex').slice(0, 16);
}

/** Replaces every occurrence of every secret (longest first, ignoring values under 4 characters, which would
 *  mangle ordinary words) with `<redacted>`. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length))
    out = out.split(s).join(REDACTED);
  return out;
}

/** `redactText` applied to every string inside a JSON-like value (keys included); returns a new value. */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(v)) out[redactText(k, secrets)] = walk(val);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

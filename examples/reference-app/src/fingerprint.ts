/**
 * A secret's fingerprint, the same function as Guardia's `fingerprint()` (src/playbooks/redact.ts), copied because
 * the reference app does not depend on Guardia: HMAC-SHA256 keyed "guardia-fingerprint", hex, first 16 chars.
 */
import { createHmac } from 'node:crypto';

export function fingerprint(secret: string): string {
  return createHmac('sha256', 'guardia-fingerprint').update(secret).digest('hex').slice(0, 16);
}

/**
 * Signed, expiring one-click acknowledge links for email pages. The token carries who may acknowledge which
 * incident until when, and an HMAC over it, so the server needs no table to check a link:
 *
 *   token = base64url(JSON {i: incident id, p: person id, e: expiry unix seconds}) "." base64url(HMAC-SHA256)
 *
 * The HMAC key is derived from the instance secret key for this one purpose, so a link signature can never be
 * confused with any other thing the secret key signs. A link acts once: acknowledging twice is refused by the
 * incident's own transition ("already acknowledged by …").
 */
import crypto from 'node:crypto';
import { GuardiaError } from '../shared/errors.js';

/** How long an acknowledge link works when the caller has no better expiry: a day outlives any ack target. */
export const DEFAULT_ACK_LINK_TTL_MS = 24 * 60 * 60 * 1000;

export interface AckLinkClaims {
  incidentId: number;
  personId: string;
}

function linkKey(secretKey: string): Buffer {
  return crypto.createHmac('sha256', secretKey).update('guardia:ack-link:v1').digest();
}

function sign(payload: string, secretKey: string): Buffer {
  return crypto.createHmac('sha256', linkKey(secretKey)).update(payload).digest();
}

/** The token alone (the last path segment of the link). */
export function createAckToken(claims: AckLinkClaims & { expiresAt: Date }, secretKey: string): string {
  const payload = Buffer.from(
    JSON.stringify({
      i: claims.incidentId,
      p: claims.personId,
      e: Math.floor(claims.expiresAt.getTime() / 1000),
    }),
  ).toString('base64url');
  return `${payload}.${sign(payload, secretKey).toString('base64url')}`;
}

/** The full link: `<publicUrl>/ack/<token>`. */
export function createAckLink(
  claims: AckLinkClaims & { expiresAt: Date },
  secretKey: string,
  publicUrl: string,
): string {
  return `${publicUrl.replace(/\/+$/, '')}/ack/${createAckToken(claims, secretKey)}`;
}

const invalid = () => new GuardiaError('unauthenticated', 'this acknowledge link is not valid');

/**
 * Checks a token's signature (constant-time), then its expiry. Throws `unauthenticated` with "expired" or
 * "not valid"; an altered token is always "not valid", never "expired".
 */
export function verifyAckToken(token: string, secretKey: string, now: Date): AckLinkClaims {
  const parts = token.split('.');
  if (parts.length !== 2) throw invalid();
  const [payload, signature] = parts as [string, string];
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(payload) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) throw invalid();
  // Compared as text, not decoded bytes: base64url's last character has spare bits, and a token that differs
  // from the issued one in any character must not verify.
  const given = Buffer.from(signature);
  const expected = Buffer.from(sign(payload, secretKey).toString('base64url'));
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw invalid();
  let claims: { i?: unknown; p?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw invalid();
  }
  if (
    !Number.isSafeInteger(claims.i) ||
    (claims.i as number) <= 0 ||
    typeof claims.p !== 'string' ||
    claims.p === '' ||
    !Number.isSafeInteger(claims.e)
  )
    throw invalid();
  if (now.getTime() >= (claims.e as number) * 1000)
    throw new GuardiaError('unauthenticated', 'this acknowledge link has expired');
  return { incidentId: claims.i as number, personId: claims.p };
}

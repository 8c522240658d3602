/**
 * The session: a JWT (HS256, `jose`, JWT_SECRET) carried in a cookie signed by @fastify/cookie (COOKIE_SECRET).
 * Two layers, two secrets — and two ways for instances with different secrets to refuse each other's sessions.
 */
import { SignJWT, jwtVerify, errors } from 'jose';

export const SESSION_COOKIE = 'session';
const ISSUER = 'reference-app';
const TTL = '12h';

export interface Session {
  userId: number;
  tenantId: number;
  email: string;
}

export type VerifyResult =
  { ok: true; session: Session } | { ok: false; reason: 'signature' | 'expired' | 'malformed' };

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function signSession(secret: string, session: Session): Promise<string> {
  return new SignJWT({ tid: session.tenantId, email: session.email })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(session.userId))
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(TTL)
    .sign(key(secret));
}

export async function verifySession(secret: string, token: string): Promise<VerifyResult> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: ['HS256'], issuer: ISSUER });
    const userId = Number(payload.sub);
    const tenantId = Number(payload.tid);
    if (!Number.isInteger(userId) || !Number.isInteger(tenantId) || typeof payload.email !== 'string')
      return { ok: false, reason: 'malformed' };
    return { ok: true, session: { userId, tenantId, email: payload.email } };
  } catch (err) {
    if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: 'signature' };
    if (err instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
    return { ok: false, reason: 'malformed' };
  }
}

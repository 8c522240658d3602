import { describe, expect, it } from 'vitest';
import {
  decideLogSignatures,
  decideSessionConsistency,
  matchesSignatureError,
  type InstanceHealth,
} from '../../../src/playbooks/login/rules/sessions.js';
import { blockingTenantState, decideTenant } from '../../../src/playbooks/login/rules/tenant.js';

const a: InstanceHealth = {
  url: 'http://127.0.0.1:4001',
  ok: true,
  name: 'app-0',
  fingerprints: { JWT_SECRET: 'aaaa1111aaaa1111', COOKIE_SECRET: 'cccc1111cccc1111' },
};
const b: InstanceHealth = { ...a, url: 'http://127.0.0.1:4002', name: 'app-1' };

describe('login.session_consistency', () => {
  it('passes equal fingerprints and a session accepted everywhere', () => {
    const d = decideSessionConsistency([a, b], {
      ran: true,
      from: 'app-0',
      results: [{ url: b.url, name: 'app-1', status: 200 }],
    });
    expect(d.status).toBe('pass');
    expect(d.summary.en).toContain('accepted by every other instance');
  });

  it('fails naming the instances, the secret that differs and its fingerprints', () => {
    const other: InstanceHealth = {
      ...b,
      fingerprints: { JWT_SECRET: 'bbbb2222bbbb2222', COOKIE_SECRET: 'cccc1111cccc1111' },
    };
    const d = decideSessionConsistency([a, other], {
      ran: true,
      from: 'app-0',
      results: [{ url: b.url, name: 'app-1', status: 401 }],
    });
    expect(d.status).toBe('fail');
    expect(d.summary.en).toContain(
      'JWT_SECRET differs between instances (fingerprints app-0: aaaa1111aaaa1111 vs app-1: bbbb2222bbbb2222)',
    );
    expect(d.summary.en).not.toContain('COOKIE_SECRET differs');
    expect(d.summary.en).toContain('a session from app-0 is refused by app-1 (401)');
    expect(d.mitigation?.es).toBe(
      'Si hay token inválido: rotar sesión del usuario y verificar consistencia de secretos entre instancias.',
    );
  });

  it('fails an unreachable instance and skips with fewer than two', () => {
    expect(
      decideSessionConsistency([a, { url: 'http://x', ok: false, error: 'ECONNREFUSED' }], undefined).status,
    ).toBe('fail');
    expect(decideSessionConsistency([a], undefined).status).toBe('skip');
    const noCross = decideSessionConsistency([a, b], { ran: false, reason: 'no session' });
    expect(noCross.status).toBe('pass');
    expect(noCross.summary.en).toContain('cross-instance session not tried: no session');
  });
});

describe('login.log_signatures', () => {
  it('recognises token and cookie signature errors, not other warnings', () => {
    for (const m of [
      'invalid session signature',
      'JWSSignatureVerificationFailed: signature verification failed',
      'jwt malformed',
      'Invalid cookie signature',
    ])
      expect(matchesSignatureError(m), m).toBe(true);
    for (const m of [
      'request completed',
      'session cookie withheld: COOKIE_SECURE=true but the request is not https (TRUST_PROXY unset behind a TLS proxy?)',
      'session rejected',
    ])
      expect(matchesSignatureError(m), m).toBe(false);
  });

  it('passes none and fails any, with counts and first/last seen', () => {
    expect(decideLogSignatures([], 3_600_000, 120).status).toBe('pass');
    const t = Date.parse('2026-11-28T10:00:00Z');
    const d = decideLogSignatures(
      [
        { time: t + 1000, level: 40, msg: 'invalid session signature', reqId: 'r2', file: 'app.log' },
        { time: t, level: 40, msg: 'invalid session signature', reqId: 'r1', file: 'app.log' },
      ],
      3_600_000,
      500,
    );
    expect(d.status).toBe('fail');
    expect(d.summary.en).toContain('2 token/cookie signature errors in the last 60 min');
    expect(d.evidence).toMatchObject({
      count: 2,
      by_message: { 'invalid session signature': 2 },
      first_seen: '2026-11-28T10:00:00.000Z',
      last_seen: '2026-11-28T10:00:01.000Z',
    });
    expect(d.mitigation?.es).toContain('rotar sesión del usuario');
  });

  it('names the secret that did not verify and the instance that logged it, when the lines say', () => {
    const d = decideLogSignatures(
      [
        {
          level: 40,
          msg: 'invalid session signature',
          layer: 'cookie',
          instance: 'app-1',
          file: 'app-1.log',
        },
        { level: 40, msg: 'invalid session signature', layer: 'jwt', instance: 'app-1', file: 'app-1.log' },
      ],
      3_600_000,
      10,
    );
    expect(d.summary.en).toContain('on app-1');
    expect(d.summary.en).toContain('COOKIE_SECRET, JWT_SECRET did not verify');
    expect(d.evidence).toMatchObject({ by_layer: { cookie: 1, jwt: 1 }, by_instance: { 'app-1': 2 } });
  });
});

describe('login.tenant', () => {
  it('maps suspended and billing-locked tenants to a fail with the runbook mitigation', () => {
    expect(blockingTenantState('suspended')).toBe('suspended');
    expect(blockingTenantState('billing_locked')).toBe('billing_locked');
    expect(blockingTenantState('Billing-Locked')).toBe('billing_locked');
    expect(blockingTenantState('active')).toBeUndefined();
    const d = decideTenant('2', { found: true, status: 'suspended' });
    expect(d.status).toBe('fail');
    expect(d.summary.en).toBe('tenant 2 is suspended in the app database: its users cannot log in');
    expect(d.mitigation?.es).toBe(
      'Si es solo un tenant: validar estado del tenant (suspendido/billing lock).',
    );
    expect(decideTenant('3', { found: true, status: 'billing_locked' }).status).toBe('fail');
  });

  it('maps a 403 TENANT_SUSPENDED login answer, and passes an active tenant', () => {
    const d = decideTenant('2', undefined, { tenantId: '2', status: 403, appCode: 'TENANT_SUSPENDED' });
    expect(d.status).toBe('fail');
    expect(d.summary.en).toContain('403 TENANT_SUSPENDED');
    expect(decideTenant('1', { found: true, status: 'active' }, { tenantId: '1', status: 200 }).status).toBe(
      'pass',
    );
    expect(decideTenant('9', { found: false }).status).toBe('fail');
    expect(decideTenant('1', { error: 'ECONNREFUSED' }).status).toBe('fail');
    expect(decideTenant('1', undefined).status).toBe('skip');
    expect(decideTenant(undefined, undefined).status).toBe('skip');
  });
});

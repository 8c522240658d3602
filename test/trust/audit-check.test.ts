/**
 * CI's dependency audit (scripts/audit-check.ts) decides from npm's own output: a report with high or critical
 * advisories fails unless SECURITY.md explains each by GHSA id; the error object npm prints when the advisory
 * endpoint cannot be reached (network error, or a registry answering 405 as some mirrors do) is a warning, not a
 * pass and not a failure; anything else npm prints instead of a report fails. The shapes are npm 11's.
 */
import { describe, expect, it } from 'vitest';
import { decideAudit } from '../../scripts/audit-check.js';

const report = (vulnerabilities: Record<string, unknown>, counts: Record<string, number>) =>
  JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities,
    metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts } },
  });

const HIGH = {
  fastify: {
    name: 'fastify',
    severity: 'high',
    via: [
      {
        source: 1,
        name: 'fastify',
        title: 'Content-Type header bypass',
        url: 'https://github.com/advisories/GHSA-mg2h-6x62-wpwc',
        severity: 'high',
      },
    ],
  },
  'light-my-request': { name: 'light-my-request', severity: 'high', via: ['fastify'] },
};

describe('npm audit gate', () => {
  it('passes a clean report and one with only low or moderate advisories', () => {
    expect(decideAudit(report({}, {}), '', '').kind).toBe('pass');
    const moderate = {
      x: {
        name: 'x',
        severity: 'moderate',
        via: [{ name: 'x', title: 't', url: 'u', severity: 'moderate' }],
      },
    };
    expect(decideAudit(report(moderate, { moderate: 1 }), '', '')).toMatchObject({ kind: 'pass' });
  });

  it('fails on a high advisory, naming it, unless SECURITY.md explains it by its GHSA id', () => {
    const failed = decideAudit(report(HIGH, { high: 2 }), '', '# Security\n');
    expect(failed.kind).toBe('fail');
    expect(failed.message).toContain('GHSA-mg2h-6x62-wpwc');
    expect(failed.message).toContain('fastify: Content-Type header bypass');
    const explained = decideAudit(
      report(HIGH, { high: 2 }),
      '',
      '- GHSA-mg2h-6x62-wpwc (fastify): only reachable through …, which Guardia does not use.\n',
    );
    expect(explained.kind).toBe('pass');
  });

  it('an unreachable advisory endpoint is a warning (npm exits 1 for it too)', () => {
    const network = JSON.stringify({
      message:
        'request to http://127.0.0.1:9/-/npm/v1/security/advisories/bulk failed, reason: connect ECONNREFUSED 127.0.0.1:9',
      error: { summary: '', detail: '' },
    });
    const stderr = 'npm warn audit request to … failed\nnpm error audit endpoint returned an error\n';
    expect(decideAudit(network, stderr, '')).toMatchObject({ kind: 'unavailable' });
    const refused = JSON.stringify({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      method: 'POST',
      uri: 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      body: '',
      error: { summary: '', detail: '' },
    });
    expect(decideAudit(refused, stderr, '').kind).toBe('unavailable');
  });

  it('npm failing for another reason (no lockfile, garbage) fails', () => {
    const noLock = JSON.stringify({
      error: { code: 'ENOLOCK', summary: 'This command requires an existing lockfile.' },
    });
    expect(decideAudit(noLock, 'npm error code ENOLOCK', '').kind).toBe('fail');
    expect(decideAudit('not json', '', '').kind).toBe('fail');
  });
});

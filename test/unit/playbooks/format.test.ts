/**
 * Playbook report formatters: grouped text with and without colour, in English and Spanish; Markdown for an
 * incident or a ticket; progress lines; the timeline's counts line.
 */
import { describe, expect, it } from 'vitest';
import type { Finding, PlaybookReport } from '../../../src/playbooks/check.js';
import {
  compactEvidence,
  countsLine,
  formatProgress,
  formatReportMarkdown,
  formatReportText,
} from '../../../src/playbooks/format.js';

const CONFIG = { en: 'Configuration', es: 'Configuración' };
const COOKIES = { en: 'Cookies and CORS', es: 'Cookies y CORS' };

function finding(over: Partial<Finding> & Pick<Finding, 'id' | 'status'>): Finding {
  return {
    playbook: 'login',
    group: CONFIG,
    title: { en: over.id, es: over.id },
    summary: { en: `summary of ${over.id}`, es: `resumen de ${over.id}` },
    evidence: {},
    durationMs: 12,
    ...over,
  };
}

const REPORT: PlaybookReport = {
  playbook: 'login',
  startedAt: '2026-11-27T10:00:00.000Z',
  finishedAt: '2026-11-27T10:00:01.500Z',
  status: 'fail',
  findings: [
    finding({
      id: 'login.node_env',
      status: 'pass',
      title: { en: 'NODE_ENV', es: 'NODE_ENV' },
      summary: { en: 'NODE_ENV=production', es: 'NODE_ENV=production' },
    }),
    finding({
      id: 'login.trust_proxy',
      status: 'fail',
      title: { en: 'TRUST_PROXY', es: 'TRUST_PROXY' },
      summary: {
        en: 'login returned 200 without Set-Cookie: TRUST_PROXY is unset',
        es: 'el login devolvió 200 sin Set-Cookie: TRUST_PROXY no está definida',
      },
      evidence: { status: 200, set_cookie: null, headers: { 'x-request-id': 'abc' } },
      mitigation: { en: 'Set TRUST_PROXY=1 | restart', es: 'Definir TRUST_PROXY=1 | reiniciar' },
    }),
    finding({
      id: 'login.cors',
      group: COOKIES,
      status: 'warn',
      title: { en: 'CORS', es: 'CORS' },
      mitigation: { en: 'Fix CLIENT_URL', es: 'Corregir CLIENT_URL' },
    }),
    finding({ id: 'login.tenant', group: COOKIES, status: 'skip' }),
  ],
};

describe('formatReportText', () => {
  it('groups checks, one line each with ✓ ! ✗ –, then the result and what to look at; no colour', () => {
    const text = formatReportText(REPORT, { lang: 'en', color: false });
    expect(text).not.toContain('\x1b[');
    expect(text).toBe(
      [
        'Playbook login: Cannot log in',
        '',
        'Configuration',
        '  ✓ NODE_ENV: NODE_ENV=production',
        '  ✗ TRUST_PROXY: login returned 200 without Set-Cookie: TRUST_PROXY is unset',
        '',
        'Cookies and CORS',
        '  ! CORS: summary of login.cors',
        '  – login.tenant: summary of login.tenant',
        '',
        'Result: FAIL (1 fail, 1 warn, 1 pass, 1 skip; took 1.5 s)',
        '',
        'What to look at',
        '',
        '✗ TRUST_PROXY (login.trust_proxy)',
        '    login returned 200 without Set-Cookie: TRUST_PROXY is unset',
        '    Evidence:',
        '      status: 200',
        '      set_cookie: null',
        '      headers: {"x-request-id":"abc"}',
        '    Mitigation: Set TRUST_PROXY=1 | restart',
        '',
        '! CORS (login.cors)',
        '    summary of login.cors',
        '    Mitigation: Fix CLIENT_URL',
        '',
      ].join('\n'),
    );
  });

  it('speaks Spanish with --lang es', () => {
    const text = formatReportText(REPORT, { lang: 'es', color: false });
    expect(text).toContain('Playbook login: No se puede iniciar sesión');
    expect(text).toContain('Configuración\n');
    expect(text).toContain('Cookies y CORS\n');
    expect(text).toContain('Resultado: FALLO (1 fallo, 1 aviso, 1 ok, 1 omitida; duró 1.5 s)');
    expect(text).toContain('Qué revisar');
    expect(text).toContain('    Evidencia:');
    expect(text).toContain('    Mitigación: Definir TRUST_PROXY=1 | reiniciar');
    expect(text).toContain('el login devolvió 200 sin Set-Cookie');
  });

  it('colours symbols only when asked', () => {
    const text = formatReportText(REPORT, { lang: 'en', color: true });
    expect(text).toContain('\x1b[31m✗\x1b[0m');
    expect(text).toContain('\x1b[32m✓\x1b[0m');
    expect(text).toContain('\x1b[33m!\x1b[0m');
  });

  it('keeps a hostile summary on one line and strips terminal control sequences', () => {
    const report: PlaybookReport = {
      ...REPORT,
      findings: [
        finding({
          id: 'errors.x',
          status: 'fail',
          summary: { en: 'line one\nline two \x1b[2J\x07', es: 'x' },
          mitigation: { en: 'm', es: 'm' },
        }),
      ],
    };
    const text = formatReportText(report, { lang: 'en', color: false });
    expect(text).toContain('errors.x: line one ⏎ line two [2J');
    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('\x07');
  });

  it('says so when a playbook has no checks', () => {
    const text = formatReportText({ ...REPORT, findings: [], status: 'pass' }, { lang: 'en', color: false });
    expect(text).toContain('This playbook has no checks yet.');
    expect(text).toContain('Result: PASS (0 fail, 0 warn, 0 pass, 0 skip;');
  });
});

describe('formatReportMarkdown', () => {
  it('a table of every finding with escaped cells, then the mitigations', () => {
    const md = formatReportMarkdown(REPORT, { lang: 'en' });
    expect(md).toContain('### ❌ Playbook `login`: Cannot log in — FAIL');
    expect(md).toContain('1 fail, 1 warn, 1 pass, 1 skip · 2026-11-27T10:00:00.000Z');
    expect(md).toContain('|  | Group | Check | Finding |\n|---|---|---|---|');
    expect(md).toContain(
      '| ✗ fail | Configuration | TRUST_PROXY | login returned 200 without Set-Cookie: TRUST_PROXY is unset |',
    );
    expect(md).toContain('| – skip | Cookies and CORS | login.tenant | summary of login.tenant |');
    expect(md).toContain('**Mitigation**');
    expect(md).toContain('- ✗ **TRUST_PROXY**: Set TRUST_PROXY=1 \\| restart');
    expect(md).toContain('- ! **CORS**: Fix CLIENT_URL');
  });

  it('in Spanish', () => {
    const md = formatReportMarkdown(REPORT, { lang: 'es' });
    expect(md).toContain('### ❌ Playbook `login`: No se puede iniciar sesión — FALLO');
    expect(md).toContain('| Grupo | Comprobación | Resultado |');
    expect(md).toContain('**Mitigación**');
    expect(md).toContain('| ✗ fallo | Configuración |');
  });
});

describe('progress and counts', () => {
  it('one progress line per finished check, with its worst status', () => {
    const line = formatProgress(
      [REPORT.findings[0]!, REPORT.findings[1]!],
      { done: 3, total: 12, checkId: 'login.trust_proxy' },
      { lang: 'en', color: false },
    );
    expect(line).toBe('[3/12] ✗ login.trust_proxy (12 ms)\n');
    const skipped = formatProgress(
      [REPORT.findings[3]!],
      { done: 1, total: 2, checkId: 'login.tenant' },
      { lang: 'en', color: false },
    );
    expect(skipped).toBe('[1/2] – login.tenant (12 ms)\n');
  });

  it('the timeline line: fail, warn, pass (and skip when any)', () => {
    expect(countsLine(REPORT.findings)).toBe('1 fail, 1 warn, 1 pass, 1 skip');
    expect(countsLine(REPORT.findings.slice(0, 3))).toBe('1 fail, 1 warn, 1 pass');
  });

  it('evidence is compact: short lines, long values cut, extra keys counted', () => {
    const evidence: Record<string, unknown> = { long: 'x'.repeat(500) };
    for (let i = 0; i < 10; i++) evidence[`k${i}`] = i;
    const lines = compactEvidence(evidence);
    expect(lines).toHaveLength(9);
    expect(lines[0]!.length).toBeLessThanOrEqual(166);
    expect(lines[0]!.endsWith('…')).toBe(true);
    expect(lines[8]).toBe('… (3 more; --json shows everything)');
  });
});

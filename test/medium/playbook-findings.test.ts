/**
 * Playbook findings and RCAs on incidents, through the HTTP API and the service, on SQLite and on PostgreSQL:
 * one timeline entry per run with the findings' summary as data, validation of the report, 404 for an unknown
 * incident, responder role; an RCA kept on the incident and on its timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FindingJson, PlaybookReport, PlaybookReportJson } from '../../src/playbooks/check.js';
import { bearer, DIALECTS, startTestApp, type TestApp } from '../helpers/harness.js';

function finding(id: string, status: FindingJson['status']): FindingJson {
  return {
    id,
    playbook: 'login',
    group: { en: 'Configuration', es: 'Configuración' },
    title: { en: id, es: id },
    status,
    summary: { en: `summary ${id}`, es: `resumen ${id}` },
    evidence: { seen: 'Set-Cookie absent' },
    ...(status === 'fail' || status === 'warn'
      ? { mitigation: { en: 'Set TRUST_PROXY=1', es: 'Definir TRUST_PROXY=1' } }
      : {}),
    duration_ms: 12,
  };
}

const REPORT: PlaybookReportJson = {
  playbook: 'login',
  started_at: '2026-11-27T10:00:00.000Z',
  finished_at: '2026-11-27T10:00:02.000Z',
  status: 'fail',
  findings: [
    finding('login.trust_proxy', 'fail'),
    finding('login.cookie', 'fail'),
    finding('login.cors', 'warn'),
    ...Array.from({ length: 9 }, (_, i) => finding(`login.ok${i}`, 'pass')),
  ],
};

describe.each(DIALECTS)('playbook findings and RCA on %s', (dialect) => {
  let t: TestApp;
  let incidentId: number;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: bearer(t.tokens.responder),
      payload: { title: 'Login loop', severity: 'sev2' },
    });
    incidentId = res.json().id;
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: unknown, token = t.tokens.responder) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), payload: payload as object });

  it('records one timeline entry "playbook login: 2 fail, 1 warn, 9 pass" with the findings as data', async () => {
    const res = await post(`/api/v1/incidents/${incidentId}/findings`, REPORT);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      actor: 'token:alice',
      kind: 'playbook',
      message: 'playbook login: 2 fail, 1 warn, 9 pass',
    });

    const incident = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/incidents/${incidentId}`,
        headers: bearer(t.tokens.viewer),
      })
    ).json();
    const entries = incident.timeline.filter((e: { kind: string }) => e.kind === 'playbook');
    expect(entries).toHaveLength(1);
    const data = entries[0].data;
    expect(data).toMatchObject({
      playbook: 'login',
      status: 'fail',
      started_at: '2026-11-27T10:00:00.000Z',
      finished_at: '2026-11-27T10:00:02.000Z',
      counts: { fail: 2, warn: 1, pass: 9, skip: 0 },
    });
    expect(data.findings).toHaveLength(12);
    expect(data.findings[0]).toEqual({
      id: 'login.trust_proxy',
      group: { en: 'Configuration', es: 'Configuración' },
      title: { en: 'login.trust_proxy', es: 'login.trust_proxy' },
      status: 'fail',
      summary: { en: 'summary login.trust_proxy', es: 'resumen login.trust_proxy' },
      mitigation: { en: 'Set TRUST_PROXY=1', es: 'Definir TRUST_PROXY=1' },
      duration_ms: 12,
    });
  });

  it('refuses a report that is not one, or whose status contradicts its findings (400, naming the field)', async () => {
    const bad = await post(`/api/v1/incidents/${incidentId}/findings`, { ...REPORT, playbook: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_input');
    expect(bad.json().error.message).toContain('playbook');

    const lying = await post(`/api/v1/incidents/${incidentId}/findings`, { ...REPORT, status: 'pass' });
    expect(lying.statusCode).toBe(400);
    expect(lying.json().error.message).toContain('the findings make this report "fail"');

    const empty = await post(`/api/v1/incidents/${incidentId}/findings`, {});
    expect(empty.statusCode).toBe(400);
  });

  it('404 for an unknown incident; viewers may not attach; no token is 401', async () => {
    const missing = await post('/api/v1/incidents/999999/findings', REPORT);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'not_found', message: 'incident 999999 not found' });
    expect((await post(`/api/v1/incidents/${incidentId}/findings`, REPORT, t.tokens.viewer)).statusCode).toBe(
      403,
    );
    const anonymous = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${incidentId}/findings`,
      payload: REPORT,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('records the RCA on the incident and its timeline; a second one replaces it', async () => {
    const res = await post(`/api/v1/incidents/${incidentId}/rca`, {
      root_cause: 'TRUST_PROXY unset after the proxy migration',
      preventive_action: 'guardia diagnose login in the deploy pipeline',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().details.rca).toEqual({
      root_cause: 'TRUST_PROXY unset after the proxy migration',
      preventive_action: 'guardia diagnose login in the deploy pipeline',
      recorded_by: 'token:alice',
      recorded_at: '2026-11-27T10:00:00.000Z',
    });

    t.clock.advance(60_000);
    const again = await post(`/api/v1/incidents/${incidentId}/rca`, {
      root_cause: 'TRUST_PROXY unset',
      preventive_action: 'env policy check',
    });
    expect(again.json().details.rca).toMatchObject({
      root_cause: 'TRUST_PROXY unset',
      recorded_at: '2026-11-27T10:01:00.000Z',
    });
    const { timeline } = await t.services.incidents.get(incidentId);
    const rcas = timeline.filter((e) => e.kind === 'rca');
    expect(rcas.map((e) => e.message)).toEqual([
      'RCA recorded by token:alice: root cause: TRUST_PROXY unset after the proxy migration; preventive action: guardia diagnose login in the deploy pipeline',
      'RCA updated by token:alice: root cause: TRUST_PROXY unset; preventive action: env policy check',
    ]);
    expect(rcas[1]!.data).toEqual({ root_cause: 'TRUST_PROXY unset', preventive_action: 'env policy check' });
  });

  it('an RCA needs both parts (400), an existing incident (404) and a responder (403)', async () => {
    const half = await post(`/api/v1/incidents/${incidentId}/rca`, {
      root_cause: 'x',
      preventive_action: '  ',
    });
    expect(half.statusCode).toBe(400);
    expect(half.json().error.message).toContain('preventive_action');
    expect(
      (await post('/api/v1/incidents/424242/rca', { root_cause: 'a', preventive_action: 'b' })).statusCode,
    ).toBe(404);
    expect(
      (
        await post(
          `/api/v1/incidents/${incidentId}/rca`,
          { root_cause: 'a', preventive_action: 'b' },
          t.tokens.viewer,
        )
      ).statusCode,
    ).toBe(403);
  });

  it('the service attaches text that PostgreSQL would refuse (NUL) without failing', async () => {
    const { duration_ms: durationMs, ...pass } = finding('login.nul', 'pass');
    const nul: PlaybookReport = {
      playbook: 'login',
      startedAt: REPORT.started_at,
      finishedAt: REPORT.finished_at,
      findings: [{ ...pass, durationMs, summary: { en: 'a\u0000b', es: 'a\u0000b' } }],
      status: 'pass',
    };
    const entry = await t.services.playbooks.attachReport(incidentId, nul, 'cli:test');
    expect(entry.message).toBe('playbook login: 0 fail, 0 warn, 1 pass');
    expect((entry.data!.findings as { summary: { en: string } }[])[0]!.summary.en).toBe('a\u0000b');
  });

  it('the routes are in the route table with role responder (the auth matrix covers them)', async () => {
    const { routeTable } = await import('../../src/server/app.js');
    const table = routeTable(t.app);
    expect(table).toContainEqual(
      expect.objectContaining({ method: 'POST', url: '/api/v1/incidents/:id/findings', role: 'responder' }),
    );
    expect(table).toContainEqual(
      expect.objectContaining({ method: 'POST', url: '/api/v1/incidents/:id/rca', role: 'responder' }),
    );
  });
});

/**
 * Escalation scenarios with a fake clock and real local peers (an HTTP sink standing in for Slack, an in-process
 * SMTP server): the runbook's ownership model must page the right person at the right time, survive a restart,
 * and fail over from Slack to email when Slack is down. Runs on SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';
import { startHttpSink, startSmtpSink, type HttpSink, type SmtpSink } from '../helpers/sinks.js';

const T = '2026-11-27T10:00:00.000Z';
const MIN = 60_000;

describe.each(DIALECTS)('escalation on %s', (dialect) => {
  let t: TestApp;
  let slack: HttpSink;
  let smtp: SmtpSink;
  let engines: Engine[];

  beforeEach(async () => {
    slack = await startHttpSink();
    smtp = await startSmtpSink();
    t = await startTestApp(dialect, {
      now: T,
      env: { ...TEST_ENV, SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/XXXX`, SMTP_URL: smtp.url },
    });
    engines = [];
  });
  afterEach(async () => {
    for (const e of engines) await e.stop();
    await t.close();
    await slack.close();
    await smtp.close();
  });

  /** A fresh engine instance, as a (re)started Guardia process would have. */
  function engine(): Engine {
    const e = new Engine(t.services, { random: () => 0.5 });
    engines.push(e);
    return e;
  }

  /** Slack users paged so far, in order (the sink's requests mention them as <@U…>). */
  const slackMentions = () => slack.requests.map((r) => /<@(U\w+)>/.exec(r.body)?.[1]);

  const declare = async (severity: string) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/incidents',
        headers: bearer(t.tokens.responder),
        payload: { title: 'Checkout down', severity },
      })
    ).json() as { id: number };

  const act = (id: number, action: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/${action}`,
      headers: bearer(t.tokens.responder),
    });

  const timeline = async (id: number) =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json().timeline as { kind: string; message: string }[];

  it('sev1: primary at T, secondary at T+5 when unacknowledged, CTO at T+30 when unmitigated', async () => {
    const e = engine();
    const { id } = await declare('sev1');
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD']);
    t.clock.advance(5 * MIN - 1);
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD']);
    t.clock.advance(1);
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD', 'U00000SRE']);
    t.clock.set('2026-11-27T10:30:00.000Z');
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD', 'U00000SRE', 'U00000CTO']);
    const kinds = (await timeline(id)).map((x) => x.kind);
    expect(kinds.filter((k) => k === 'escalated')).toHaveLength(3);
    expect(kinds).toContain('sla_breached');
  });

  it('acknowledged at T+3: no secondary page, but the CTO step still comes at T+30 if unmitigated', async () => {
    const e = engine();
    const { id } = await declare('sev1');
    await e.runDue();
    t.clock.advance(3 * MIN);
    expect((await act(id, 'acknowledge')).statusCode).toBe(200);
    t.clock.advance(2 * MIN);
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD']);
    t.clock.set('2026-11-27T10:30:00.000Z');
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD', 'U00000CTO']);
    const messages = (await timeline(id)).map((x) => x.message);
    expect(messages.some((m) => m.includes('skipped: the incident was acknowledged'))).toBe(true);
  });

  it('mitigated in time: the CTO is never paged; resolving stops everything', async () => {
    const e = engine();
    const { id } = await declare('sev1');
    await e.runDue();
    t.clock.advance(2 * MIN);
    await act(id, 'mitigate');
    t.clock.advance(40 * MIN);
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD']);
    await act(id, 'resolve');
    expect((await timeline(id)).some((x) => x.kind === 'escalation_stopped' || x.kind === 'resolved')).toBe(
      true,
    );
  });

  it('a sev3 pages the primary only; an SLA breach goes on the timeline and to the next level', async () => {
    const e = engine();
    const { id } = await declare('sev3');
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD']);
    // Where a sev1 would have paged the secondary at T+5, a sev3 pages nobody else while its clocks run.
    t.clock.advance(4 * 60 * MIN - 1);
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD']);
    // The acknowledgement target (4 h) passes unacknowledged: the breach is recorded and the next level paged.
    t.clock.advance(1);
    await e.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD', 'U00000SRE']);
    const breach = (await timeline(id)).find((x) => x.kind === 'sla_breached');
    expect(breach?.message).toContain('acknowledgement was due at 2026-11-27T14:00:00.000Z');
  });

  it('down from before T until after a sev3 breach: the overdue step and the breach fire together, each role paged once', async () => {
    // Both timers are claimed in one batch. The breach pages the next role beyond those already paged, so it must
    // see the step's page to the primary (fired in the same batch): secondary next, not the primary twice.
    const { id } = await declare('sev3');
    t.clock.advance(4 * 60 * MIN + 1);
    await engine().runDue();
    expect(slackMentions()).toEqual(['U0000LEAD', 'U00000SRE']);
    expect((await timeline(id)).filter((x) => x.kind === 'escalated')).toHaveLength(2);
  });

  it('stopped between T+4 and T+6, started at T+7: the secondary is paged exactly once, right after start', async () => {
    const first = engine();
    await declare('sev1');
    await first.runDue();
    t.clock.advance(4 * MIN);
    await first.runDue();
    await first.stop();
    expect(slackMentions()).toEqual(['U0000LEAD']);

    t.clock.set('2026-11-27T10:07:00.000Z');
    const second = engine();
    await second.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD', 'U00000SRE']);
    await second.runDue();
    await first.runDue();
    expect(slackMentions()).toEqual(['U0000LEAD', 'U00000SRE']);
  });

  it('Slack answers 500 for ten minutes: retries, then email to the same person; the timeline shows both', async () => {
    slack.respond = () =>
      t.clock.now().getTime() < Date.parse(T) + 10 * MIN
        ? { status: 500, body: 'internal_error' }
        : { status: 200, body: 'ok' };
    const e = engine();
    const { id } = await declare('sev3');
    await e.runDue();
    for (let i = 0; i < 20 && smtp.messages.length === 0; i++) {
      t.clock.advance(30_000);
      await e.runDue();
    }
    expect(slack.requests.length).toBe(t.policy.delivery.max_attempts);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.to).toEqual(['eng-lead@example.com']);
    const entries = await timeline(id);
    const failed = entries.filter((x) => x.kind === 'notification_failed');
    expect(failed).toHaveLength(t.policy.delivery.max_attempts - 1);
    expect(failed[0]!.message).toContain('500');
    expect(entries.some((x) => x.kind === 'notification_gave_up')).toBe(true);
    expect(entries.some((x) => x.kind === 'notification_failover' && x.message.includes('email'))).toBe(true);
    expect(entries.some((x) => x.kind === 'notification_delivered' && x.message.includes('via email'))).toBe(
      true,
    );
  });
});

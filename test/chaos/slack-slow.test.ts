/**
 * Dependency fault: the Slack stand-in is slow (answers after 10 s) and failing (503). This test policy sets the
 * delivery timeout to 2 s (the default is 10 s; 2 s keeps the test fast) and 3 attempts per contact method. A
 * sev1 pages both primaries at T+0: the Engineering Lead on Slack (slow, then 503, then slow again) and the SRE by
 * email. The SRE's email must arrive while the Lead's Slack request is still hanging — the engine delivers
 * concurrently, one slow provider never delays pages to other people — and the Lead's page must count each slow
 * answer as a failed attempt, retry with backoff, and fail over to email after the third. The timeline shows it
 * all. Requests the stand-in received but answered too late may still have been posted by a real Slack: they are
 * counted as possible duplicates. On SQLite and PostgreSQL; the engine runs on a fake clock, HTTP in real time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { closeEmailTransports } from '../../src/notify/email.js';
import { startFaultySink, type FaultySink } from '../helpers/faults.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';
import { startSmtpSink, type SmtpSink } from '../helpers/sinks.js';
import { delivery, editedPolicy, PRIMARY_LEAD_AND_SRE, SRE_EMAIL_FIRST } from './policies.js';
import { recordChaos } from './stats.js';

const T = '2026-11-27T10:00:00.000Z';
const SEC = 1000;
const TIMEOUT_MS = 2_000;
const SLOW_MS = 10_000;

describe.each(DIALECTS)('Slack slow and failing on %s', (dialect) => {
  let t: TestApp | undefined;
  let slack: FaultySink | undefined;
  let smtp: SmtpSink | undefined;

  afterEach(async () => {
    await slack?.close();
    await smtp?.close();
    closeEmailTransports();
    await t?.close();
    t = slack = smtp = undefined;
  });

  it('a slow answer is a failed attempt; retried, then failed over to email; other pages are not held up', async () => {
    slack = await startFaultySink();
    smtp = await startSmtpSink();
    const script = [
      { delayMs: SLOW_MS, status: 200, body: 'ok' },
      { status: 503, body: 'service_unavailable' },
      { delayMs: SLOW_MS, status: 200, body: 'ok' },
    ];
    slack.behave = (req) => script[req.index] ?? { status: 200, body: 'ok' };
    t = await startTestApp(dialect, {
      now: T,
      policy: editedPolicy([PRIMARY_LEAD_AND_SRE, SRE_EMAIL_FIRST, delivery(3, '2s')]),
      env: { ...TEST_ENV, SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/XXXX`, SMTP_URL: smtp.url },
    });
    const engine = new Engine(t.services, { random: () => 0.5 });
    const declared = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: bearer(t.tokens.responder),
      payload: { title: 'Checkout down (slow Slack test)', severity: 'sev1' },
    });
    const id = (declared.json() as { id: number }).id;

    // T+0: both pages go out together. Slack hangs; the SRE's email must not wait for it.
    const started = Date.now();
    await engine.runDue();
    const firstCycleMs = Date.now() - started;
    expect(slack.requests).toHaveLength(1);
    expect(smtp.messages.map((m) => m.to)).toEqual([['sre@example.com']]);
    const slackSentAt = slack.requests[0]!.at;
    const emailAt = smtp.messages[0]!.at;
    expect(emailAt - started, 'the SRE email arrived before the Slack attempt timed out').toBeLessThan(
      slackSentAt - started + TIMEOUT_MS,
    );
    expect(firstCycleMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);

    t.clock.advance(10 * SEC);
    await engine.runDue(); // attempt 2: 503
    expect(slack.requests).toHaveLength(2);
    t.clock.advance(20 * SEC);
    await engine.runDue(); // attempt 3: slow again → give up on Slack → email to the Lead at once
    expect(slack.requests).toHaveLength(3);
    expect(smtp.messages.map((m) => m.to)).toEqual([['sre@example.com'], ['eng-lead@example.com']]);

    const entries = (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json().timeline as { kind: string; message: string }[];
    const lead = entries.filter((e) => e.message.includes('Engineering Lead'));
    const failed = lead.filter((e) => e.kind === 'notification_failed').map((e) => e.message);
    expect(failed).toEqual([
      expect.stringContaining(
        `via slack failed (attempt 1/3): Slack webhook: no answer within ${TIMEOUT_MS} ms`,
      ),
      expect.stringContaining('via slack failed (attempt 2/3): Slack answered 503 service_unavailable'),
    ]);
    expect(lead.find((e) => e.kind === 'notification_gave_up')?.message).toContain(
      `failed for good after 3 attempt(s): Slack webhook: no answer within ${TIMEOUT_MS} ms`,
    );
    expect(lead.some((e) => e.kind === 'notification_failover' && e.message.includes('via email'))).toBe(
      true,
    );
    expect(
      lead.some(
        (e) => e.kind === 'notification_delivered' && e.message.includes('via email delivered (attempt 1)'),
      ),
    ).toBe(true);
    expect(
      entries.some(
        (e) =>
          e.kind === 'notification_delivered' &&
          e.message.startsWith('Page to Backend/SRE engineer via email'),
      ),
    ).toBe(true);
    // Nothing leaks: the Slack webhook URL is a credential.
    for (const e of entries) expect(e.message).not.toContain('/services/T000/B000/XXXX');

    recordChaos(`slack-slow ${dialect}`, {
      faults_injected: script.length,
      slow_answers: 2,
      failing_answers: 1,
      timeout_ms: TIMEOUT_MS,
      retries: failed.length,
      failovers_to_email: 1,
      sre_email_ms_after_start: emailAt - started,
      first_cycle_ms: firstCycleMs,
      slack_requests: slack.requests.length,
      possible_duplicates_at_slack: 2,
      lost: 0,
    });
  }, 60_000);

  it('Slack 429 with Retry-After: a short wait is honoured, a long one fails over at once', async () => {
    slack = await startFaultySink();
    smtp = await startSmtpSink();
    // The Lead's first page: 429 "wait 30 s" (our own backoff would retry after 10 s). The SRE: 429 "wait 10 min".
    slack.behave = (req) => {
      const lead = req.body.includes('<@U0000LEAD>');
      if (lead && req.index === 0)
        return { status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } };
      if (!lead) return { status: 429, body: 'rate_limited', headers: { 'retry-after': '600' } };
      return { status: 200, body: 'ok' };
    };
    t = await startTestApp(dialect, {
      now: T,
      policy: editedPolicy([PRIMARY_LEAD_AND_SRE, delivery(3, '2s')]),
      env: { ...TEST_ENV, SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/XXXX`, SMTP_URL: smtp.url },
    });
    const engine = new Engine(t.services, { random: () => 0.5 });
    const declared = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: bearer(t.tokens.responder),
      payload: { title: 'Checkout down (Slack rate limit test)', severity: 'sev1' },
    });
    const id = (declared.json() as { id: number }).id;
    await engine.runDue();
    // The SRE is not kept waiting 10 minutes for Slack: email at once.
    expect(smtp.messages.map((m) => m.to)).toEqual([['sre@example.com']]);
    const leadRequests = () => slack!.requests.filter((r) => r.body.includes('<@U0000LEAD>')).length;
    expect(leadRequests()).toBe(1);
    t.clock.advance(10 * SEC); // our own backoff would have retried here
    await engine.runDue();
    expect(leadRequests()).toBe(1);
    t.clock.advance(20 * SEC); // T+30 s: what Slack asked for
    await engine.runDue();
    expect(leadRequests()).toBe(2);
    const entries = (
      await t.app.inject({ method: 'GET', url: `/api/v1/incidents/${id}`, headers: bearer(t.tokens.viewer) })
    ).json().timeline as { kind: string; message: string }[];
    expect(entries.find((e) => e.kind === 'notification_failed')?.message).toMatch(
      /Engineering Lead via slack failed \(attempt 1\/3\): Slack answered 429 rate_limited \(Retry-After 30 s\); retrying at 2026-11-27T10:00:30\.000Z \(when the provider said to\)/,
    );
    expect(
      entries.some(
        (e) =>
          e.kind === 'notification_delivered' &&
          e.message.startsWith('Page to Engineering Lead via slack delivered (attempt 2)'),
      ),
    ).toBe(true);
    expect(
      entries.find((e) => e.kind === 'notification_gave_up' && e.message.includes('Backend/SRE'))?.message,
    ).toContain('failed for good after 1 attempt(s): Slack answered 429');
    recordChaos(`slack-429 ${dialect}`, {
      faults_injected: 2,
      retries: 1,
      honoured_retry_after_s: 30,
      failovers_to_email: 1,
      lost: 0,
    });
  }, 60_000);
});

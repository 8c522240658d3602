/**
 * Dependency fault: the SMTP server goes down and comes back. The in-process SMTP server (a real peer) is closed,
 * a sev1 pages the Engineering Lead by email (email first in this test policy), and every attempt fails with a
 * connection error; the outbox retries with its backoff (10 s, then 20 s: the engine runs on a fake clock, so
 * waits are instant but exact) and never earlier; the server is reopened on the same port and the next attempt
 * delivers. A second outage is an SMTP server that is up but answers 451 (try again later). The timeline shows
 * every failed attempt and the delivery; exactly one message arrives. On SQLite and PostgreSQL.
 */
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { closeEmailTransports } from '../../src/notify/email.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';
import { startSmtpSink, type SmtpSink } from '../helpers/sinks.js';
import { editedPolicy, LEAD_EMAIL_FIRST } from './policies.js';
import { recordChaos } from './stats.js';

const T = '2026-11-27T10:00:00.000Z';
const SEC = 1000;

describe.each(DIALECTS)('SMTP down and back on %s', (dialect) => {
  let t: TestApp | undefined;
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close().catch(() => undefined);
    closeEmailTransports();
    await t?.close();
    t = undefined;
  });

  async function setUp(smtpUrl: string) {
    t = await startTestApp(dialect, {
      now: T,
      policy: editedPolicy([LEAD_EMAIL_FIRST]),
      env: { ...TEST_ENV, SMTP_URL: smtpUrl },
    });
    const engine = new Engine(t.services, { random: () => 0.5 });
    const declared = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: bearer(t.tokens.responder),
      payload: { title: 'Checkout down (SMTP outage test)', severity: 'sev1' },
    });
    expect(declared.statusCode).toBe(201);
    const id = (declared.json() as { id: number }).id;
    const app = t;
    const timeline = async () =>
      (
        await app.app.inject({
          method: 'GET',
          url: `/api/v1/incidents/${id}`,
          headers: bearer(app.tokens.viewer),
        })
      ).json().timeline as { kind: string; message: string }[];
    const page = async () =>
      app.services.store.db
        .selectFrom('notifications')
        .selectAll()
        .where('incident_id', '=', id)
        .where('kind', '=', 'page')
        .executeTakeFirstOrThrow();
    return { engine, id, timeline, page, clock: app.clock };
  }

  it('a closed SMTP server: retries with backoff, delivers once it is back on the same port', async () => {
    let smtp: SmtpSink = await startSmtpSink();
    const port = Number(new URL(smtp.url).port);
    await smtp.close(); // down before the page is due
    closers.push(() => smtp.close());
    const { engine, timeline, page, clock } = await setUp(smtp.url);

    await engine.runDue(); // attempt 1 at T: connection refused
    expect(await page()).toMatchObject({
      status: 'pending',
      attempts: 1,
      next_attempt_at: '2026-11-27T10:00:10.000Z',
    });
    clock.advance(9 * SEC);
    await engine.runDue(); // not yet due: nothing is tried early
    expect((await page()).attempts).toBe(1);
    clock.advance(1 * SEC);
    await engine.runDue(); // attempt 2 at T+10 s: still down; next in 20 s
    expect(await page()).toMatchObject({
      status: 'pending',
      attempts: 2,
      next_attempt_at: '2026-11-27T10:00:30.000Z',
    });

    smtp = await startSmtpSink(port); // back, same port
    clock.advance(20 * SEC);
    await engine.runDue(); // attempt 3 at T+30 s: delivered
    expect(await page()).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.to).toEqual(['eng-lead@example.com']);

    const entries = await timeline();
    const failed = entries.filter((e) => e.kind === 'notification_failed');
    expect(failed.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^Page to Engineering Lead via email failed \(attempt 1\/5\): SMTP .*retrying at 2026-11-27T10:00:10\.000Z$/,
      ),
      expect.stringMatching(
        /^Page to Engineering Lead via email failed \(attempt 2\/5\): SMTP .*retrying at 2026-11-27T10:00:30\.000Z$/,
      ),
    ]);
    expect(failed[0]!.message).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
    expect(entries.filter((e) => e.kind === 'notification_delivered').map((e) => e.message)).toEqual([
      expect.stringContaining('Page to Engineering Lead via email delivered (attempt 3)'),
    ]);
    expect(entries.some((e) => e.kind === 'notification_gave_up' || e.kind === 'notification_failover')).toBe(
      false,
    );
    recordChaos(`smtp-down ${dialect}`, {
      faults_injected: 1,
      failed_attempts: failed.length,
      retries: failed.length,
      delivered: smtp.messages.length,
      duplicates_at_sink: smtp.messages.length - 1,
      lost: 0,
    });
  });

  it('an SMTP server answering 451 (try again later): retried, then delivered', async () => {
    let refusals = 2;
    const messages: string[][] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        if (refusals-- > 0) {
          const err = Object.assign(new Error('4.3.2 Service temporarily unavailable, try again later'), {
            responseCode: 451,
          });
          return callback(err);
        }
        callback();
      },
      onData(stream, session, callback) {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          messages.push(session.envelope.rcptTo.map((r) => r.address));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const port = (server.server.address() as AddressInfo).port;
    const { engine, timeline, page, clock } = await setUp(`smtp://127.0.0.1:${port}`);

    await engine.runDue();
    clock.advance(10 * SEC);
    await engine.runDue();
    clock.advance(20 * SEC);
    await engine.runDue();
    expect(await page()).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(messages).toEqual([['eng-lead@example.com']]);
    const failed = (await timeline()).filter((e) => e.kind === 'notification_failed');
    expect(failed).toHaveLength(2);
    for (const f of failed) expect(f.message).toContain('451');
    recordChaos(`smtp-451 ${dialect}`, {
      faults_injected: 2,
      failed_attempts: failed.length,
      retries: failed.length,
      delivered: messages.length,
      duplicates_at_sink: messages.length - 1,
      lost: 0,
    });
  });
});

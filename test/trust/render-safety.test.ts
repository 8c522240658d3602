/**
 * Hostile text end to end, on SQLite and PostgreSQL: an incident declared through the API with a title carrying a
 * script tag, a CR/LF header injection and a Slack `<!channel>` ping goes through the real engine to a Slack
 * stand-in (which refuses it, so the page fails over to email on a real SMTP server) and to the acknowledge page.
 * Slack text has no live ping and no markup, the SMTP message has no injected header or recipient and escaped
 * HTML, the page escapes everything. SQL metacharacters in titles and dedup keys are stored and read back
 * verbatim, and `%` / `_` in a dedup key are never wildcards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { closeEmailTransports } from '../../src/notify/email.js';
import { bearer, DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';
import { startHttpSink, startSmtpSink, type HttpSink, type SmtpSink } from '../helpers/sinks.js';

const SCRIPT = '<script>alert(1)</script>';
const HEADER_INJECTION = '\r\nBcc: evil@example.com';
const PING = '<!channel> <!here|here> <@U0000EVIL>';
const HOSTILE_TITLE = `${SCRIPT} Checkout down ${PING}${HEADER_INJECTION}`;
const SQL_TEXTS = [
  "'; DROP TABLE incidents; --",
  '100% done_',
  'back\\slash \\\\ \\%',
  `"quoted" 'single' \`tick\``,
];

/** Soft line breaks and =XX escapes of quoted-printable undone, so the raw message can be searched. */
function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

describe.each(DIALECTS)('rendering and storage safety on %s', (dialect) => {
  let t: TestApp;
  let slack: HttpSink;
  let smtp: SmtpSink;

  beforeEach(async () => {
    slack = await startHttpSink();
    smtp = await startSmtpSink();
    t = await startTestApp(dialect, {
      env: { ...TEST_ENV, SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/hostile`, SMTP_URL: smtp.url },
    });
  });
  afterEach(async () => {
    await t.close();
    await slack.close();
    await smtp.close();
    closeEmailTransports();
  });

  it('a script tag, CR/LF and <!channel> in a title are inert in Slack, email and the acknowledge page', async () => {
    const declared = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: bearer(t.tokens.responder),
      payload: {
        title: HOSTILE_TITLE,
        severity: 'sev1',
        links: [{ href: 'https://status.example.com/?q=<b>&x="1"', text: `${SCRIPT} ${PING}` }],
      },
    });
    expect(declared.statusCode).toBe(201);
    const id = (declared.json() as { id: number }).id;

    // Slack refuses for good (404), so the engine fails over to the person's next contact: email.
    slack.respond = () => ({ status: 404, body: 'no_service' });
    const engine = new Engine(t.services, { random: () => 0.5 });
    try {
      await engine.runDue();
      await engine.runDue();
    } finally {
      await engine.stop();
    }

    expect(slack.requests.length).toBeGreaterThan(0);
    for (const req of slack.requests) {
      const payload = JSON.parse(req.body) as { text: string; blocks: unknown[] };
      // Every mrkdwn text: no live special mention, no raw markup from the title. The header block is plain_text.
      const mrkdwn: string[] = [payload.text];
      JSON.stringify(payload.blocks, (key, value: unknown) => {
        if (value && typeof value === 'object' && (value as { type?: string }).type === 'mrkdwn')
          mrkdwn.push((value as { text: string }).text);
        return value;
      });
      for (const text of mrkdwn) {
        expect(text).not.toMatch(/<!(channel|here|everyone)/);
        expect(text).not.toContain('<@U0000EVIL>');
        expect(text).not.toContain('<script');
        expect(text).not.toContain('\r');
      }
      expect(req.body).toContain('&lt;!channel&gt;');
    }

    expect(smtp.messages.length).toBeGreaterThan(0);
    for (const msg of smtp.messages) {
      // Envelope: only the paged person's address; no Bcc header, and the title's CR/LF did not start a header.
      expect(msg.to).toEqual(['eng-lead@example.com']);
      const [headers, ...rest] = msg.raw.split('\r\n\r\n');
      expect(headers).not.toMatch(/^bcc:/im);
      expect(headers).not.toMatch(/^[^:\r\n]*evil@example\.com/im);
      const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(headers!)?.[1] ?? '';
      expect(subject).not.toMatch(/\r\n(?![ \t])/);
      const body = decodeQuotedPrintable(rest.join('\r\n\r\n'));
      const html = body.slice(body.indexOf('<html'));
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).not.toMatch(/<a href="[^"]*"[^>]*"1"/);
    }

    // The acknowledge page behind the email's link escapes the title too (its only script is its own, by nonce).
    const ackUrl = /(http:\/\/127\.0\.0\.1:8080\/ack\/[A-Za-z0-9_.-]+)/.exec(
      decodeQuotedPrintable(smtp.messages[0]!.raw),
    );
    expect(ackUrl).not.toBeNull();
    const page = await t.app.inject({ method: 'GET', url: new URL(ackUrl![1]!).pathname });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body.match(/<script/g)).toHaveLength(1);
    expect(page.headers['content-security-policy']).toContain("script-src 'nonce-");

    // The API answers JSON, where the title is data, stored verbatim.
    const shown = await t.app.inject({
      method: 'GET',
      url: `/api/v1/incidents/${id}`,
      headers: bearer(t.tokens.viewer),
    });
    expect(shown.headers['content-type']).toMatch(/^application\/json/);
    expect((shown.json() as { title: string }).title).toBe(HOSTILE_TITLE.trim());
  });

  it('SQL metacharacters in titles and dedup keys are stored and read back verbatim; % and _ are not wildcards', async () => {
    const ids: number[] = [];
    for (const [i, text] of SQL_TEXTS.entries()) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/hooks/generic',
        headers: bearer(TEST_ENV.GENERIC_TOKEN),
        payload: { title: text, dedup_key: `${text} #${i}`, severity: 'sev3', details: { note: text } },
      });
      expect(res.statusCode, res.body).toBe(202);
      ids.push((res.json() as { results: { incident_id: number }[] }).results[0]!.incident_id);
    }
    const declared = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: bearer(t.tokens.responder),
      payload: { title: SQL_TEXTS[0], severity: 'sev3', dedup_key: SQL_TEXTS[0] },
    });
    expect(declared.statusCode).toBe(201);

    for (const [i, text] of SQL_TEXTS.entries()) {
      const got = (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/incidents/${ids[i]}`,
          headers: bearer(t.tokens.viewer),
        })
      ).json() as {
        title: string;
        dedup_key: string;
        details: { note?: string };
        timeline: { message: string }[];
      };
      expect(got.title).toBe(text);
      expect(got.dedup_key).toBe(`${text} #${i}`);
      expect(got.details.note).toBe(text);
    }
    // The table is still there, with everything in it.
    const list = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/incidents?status=all',
        headers: bearer(t.tokens.viewer),
      })
    ).json() as { incidents: { title: string }[] };
    expect(list.incidents).toHaveLength(SQL_TEXTS.length + 1);

    // Wildcards: an open incident on "diskXfull" must not take an alert keyed "disk_full" or "disk%".
    const send = async (key: string) =>
      (
        (
          await t.app.inject({
            method: 'POST',
            url: '/hooks/generic',
            headers: bearer(TEST_ENV.GENERIC_TOKEN),
            payload: { title: `Disk ${key}`, dedup_key: key, severity: 'sev3' },
          })
        ).json() as { results: { incident_id: number; outcome: string }[] }
      ).results[0]!;
    const first = await send('diskXfull');
    expect(first.outcome).toBe('opened');
    for (const key of ['disk_full', 'disk%', '%', '_________']) {
      const r = await send(key);
      expect(r.outcome, key).toBe('opened');
      expect(r.incident_id).not.toBe(first.incident_id);
    }
    expect((await send('disk_full')).outcome).toBe('attached');
  });
});

/**
 * Slack's Acknowledge / Resolve buttons coming back through `POST /hooks/slack/interactions`, on SQLite and
 * PostgreSQL: signed with Slack's v0 scheme (the same code that reproduces Slack's documented test vector), a
 * correct request acts as the mapped person; a stale timestamp, a wrong signature or an unset signing secret gets
 * 401; an unmapped Slack user acts on nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackSignature } from '../../src/notify/slack-interactivity.js';
import { DIALECTS, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/integrations');
const blockActions = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'slack-block-actions.json'), 'utf8')) as {
  _secret: string;
  request: { headers: Record<string, string>; rawBody: string; body: Record<string, unknown> };
};
const SECRET = blockActions._secret;

/** The fixture's block_actions payload with Guardia's button pressed by `user`. */
function payload(actionId: string, incidentId: number | string, user = 'U0000LEAD'): string {
  const body = structuredClone(blockActions.request.body) as {
    user: { id: string };
    actions: { action_id: string; value: string; block_id: string }[];
  };
  body.user.id = user;
  body.actions = [
    {
      ...body.actions[0]!,
      action_id: actionId,
      value: String(incidentId),
      block_id: `guardia:incident:${incidentId}`,
    },
  ];
  return `payload=${encodeURIComponent(JSON.stringify(body))}`;
}

describe.each(DIALECTS)('Slack interactivity on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect, { env: { ...TEST_ENV, SLACK_SIGNING_SECRET: SECRET } });
  });
  afterAll(async () => t.close());

  const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);
  const send = (rawBody: string, options: { ts?: number; signature?: string; app?: TestApp } = {}) => {
    const app = options.app ?? t;
    const ts = String(options.ts ?? nowSeconds());
    return app.app.inject({
      method: 'POST',
      url: '/hooks/slack/interactions',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': options.signature ?? slackSignature(SECRET, ts, rawBody),
      },
      payload: rawBody,
    });
  };
  const declare = async () =>
    (await t.services.incidents.declare({ title: 'Checkout down', severity: 'sev1' }, 'token:test')).id;
  const status = async (id: number) => (await t.services.incidents.get(id)).incident;

  it('a correctly signed Acknowledge press acknowledges as the mapped person; a second press says who was first', async () => {
    const id = await declare();
    const res = await send(payload('guardia_ack', id));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: `Incident #${id} acknowledged by Engineering Lead.`,
    });
    const incident = await status(id);
    expect(incident.status).toBe('acknowledged');
    expect(incident.acknowledged_by).toBe('person:eng-lead');

    t.clock.advance(5_000);
    const again = await send(payload('guardia_ack', id, 'U00000SRE'));
    expect(again.statusCode).toBe(200);
    expect(again.json().text).toBe(
      `Incident #${id} is already acknowledged by Engineering Lead at ${incident.acknowledged_at!.replace('.000Z', 'Z')}.`,
    );
    const acks = (await t.services.incidents.get(id)).timeline.filter((e) => e.kind === 'acknowledged');
    expect(acks).toHaveLength(1);
  });

  it('Resolve resolves, answering in the Spanish speaker’s language', async () => {
    const id = await declare();
    const res = await send(payload('guardia_resolve', id, 'U00000CTO'));
    expect(res.statusCode).toBe(200);
    expect(res.json().text).toBe(`Incidente #${id} resuelto por CTO/Founder.`);
    const incident = await status(id);
    expect(incident.status).toBe('resolved');
    expect(incident.resolved_by).toBe('person:cto');
  });

  it('a stale timestamp gets 401 and changes nothing', async () => {
    const id = await declare();
    const res = await send(payload('guardia_ack', id), { ts: nowSeconds() - 301 });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthenticated');
    expect(res.json().error.message).toContain('stale');
    const future = await send(payload('guardia_ack', id), { ts: nowSeconds() + 301 });
    expect(future.statusCode).toBe(401);
    expect((await status(id)).status).toBe('triggered');
  });

  it('a wrong signature gets 401 and changes nothing', async () => {
    const id = await declare();
    const body = payload('guardia_ack', id);
    const ts = String(nowSeconds());
    for (const signature of [
      slackSignature('not-the-secret', ts, body),
      slackSignature(SECRET, ts, payload('guardia_ack', id + 1)),
      'v0=deadbeef',
      '',
    ]) {
      const res = await send(body, { signature });
      expect(res.statusCode).toBe(401);
    }
    const unsigned = await t.app.inject({
      method: 'POST',
      url: '/hooks/slack/interactions',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: body,
    });
    expect(unsigned.statusCode).toBe(401);
    expect((await status(id)).status).toBe('triggered');
  });

  it('an unmapped Slack user gets an explanation and nothing is acknowledged', async () => {
    const id = await declare();
    const res = await send(payload('guardia_ack', id, 'U999STRANGER'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(res.json().text).toContain('U999STRANGER is not mapped to a person in guardia.yaml');
    expect((await status(id)).status).toBe('triggered');
  });

  it("other apps' buttons are answered 200 and ignored; a malformed payload is 400; an unknown incident is said so", async () => {
    const f = blockActions.request;
    const ts = Number(f.headers['X-Slack-Request-Timestamp']);
    const saved = t.clock.now();
    t.clock.set(new Date(ts * 1000 + 2000));
    // The fixture's exact bytes and signature: verified over the raw body, then ignored (action "ack" is not ours).
    const fixtureRes = await send(f.rawBody, { ts, signature: f.headers['X-Slack-Signature'] });
    t.clock.set(saved);
    expect(fixtureRes.statusCode).toBe(200);
    expect(fixtureRes.body).toBe('');

    const malformed = await send('payload=%7Bnot-json');
    expect(malformed.statusCode).toBe(400);
    const badValue = await send(payload('guardia_ack', 'abc'));
    expect(badValue.statusCode).toBe(400);
    const missing = await send(payload('guardia_ack', 987654));
    expect(missing.statusCode).toBe(200);
    expect(missing.json().text).toBe('Incident #987654 does not exist on this Guardia.');
  });

  it('without SLACK_SIGNING_SECRET every request gets 401 naming the variable', async () => {
    const bare = await startTestApp(dialect, { env: TEST_ENV });
    try {
      const res = await send(payload('guardia_ack', 1), { app: bare });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('set SLACK_SIGNING_SECRET');
    } finally {
      await bare.close();
    }
  });
});

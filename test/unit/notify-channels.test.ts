/**
 * The outbound channels against real local peers: an HTTP sink standing in for Slack and webhook receivers, a
 * local GitHub stand-in, and in-process SMTP servers. Checks request shapes (Block Kit buttons, signatures,
 * GitHub calls), which failures are retryable, that secrets never reach a result's detail, and that CR/LF cannot
 * inject email headers.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import type { ChannelPolicy } from '../../src/domain/policy/notify-schema.js';
import type { Policy } from '../../src/domain/policy/schema.js';
import { createAckLink, createAckToken, verifyAckToken } from '../../src/notify/ack-link.js';
import type { DeliveryContext, OutboundMessage } from '../../src/notify/channel.js';
import { closeEmailTransports, emailSender, parseMailbox } from '../../src/notify/email.js';
import { githubIssuesSender } from '../../src/notify/github-issues.js';
import { StoreRefs } from '../../src/notify/refs.js';
import { senderFor } from '../../src/notify/registry.js';
import {
  parseSlackInteraction,
  slackSignature,
  verifySlackRequest,
} from '../../src/notify/slack-interactivity.js';
import { escapeMrkdwn, slackPayload, slackSender } from '../../src/notify/slack.js';
import { guardiaSignature, verifyGuardiaSignature, webhookSender } from '../../src/notify/webhook.js';
import { FakeClock } from '../../src/shared/clock.js';
import { GuardiaError } from '../../src/shared/errors.js';
import { startGitHubStandIn, type GitHubStandIn } from '../helpers/github-standin.js';
import { openTestStore, type TestStore } from '../helpers/harness.js';
import { sampleIncident, samplePage } from '../helpers/messages.js';
import { startHttpSink, startSmtpSink, type HttpSink, type SmtpSink } from '../helpers/sinks.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/integrations');
const fixture = (name: string) =>
  JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;

type Channel<T extends ChannelPolicy['type']> = Extract<ChannelPolicy, { type: T }>;

let testStore: TestStore;
let refs: StoreRefs;
let policy: Policy;
const clock = new FakeClock('2026-11-27T10:00:00.000Z');

beforeAll(async () => {
  testStore = await openTestStore('sqlite');
  refs = new StoreRefs(testStore.store.db, clock);
  policy = loadPolicy({});
});
afterAll(async () => {
  closeEmailTransports();
  await testStore.cleanup();
});

function ctx(env: NodeJS.ProcessEnv, overrides: Partial<DeliveryContext> = {}): DeliveryContext {
  return { channelName: 'test-channel', policy, env, timeoutMs: 2000, refs, ...overrides };
}

describe('registry', () => {
  it('has one sender per deliverable channel type; pager fans out to people instead', () => {
    expect(senderFor('slack')).toBe(slackSender);
    expect(senderFor('email')).toBe(emailSender);
    expect(senderFor('github-issues')).toBe(githubIssuesSender);
    expect(senderFor('webhook')).toBe(webhookSender);
    expect(senderFor('pager')).toBeUndefined();
  });
});

describe('Slack incoming webhook', () => {
  let sink: HttpSink;
  const channel: Channel<'slack'> = { type: 'slack', webhook_url: { env: 'SLACK_WEBHOOK_URL' } };
  const secretPath = '/services/T000/B000/s3cr3tW3bh00kT0k3n';
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    sink = await startHttpSink();
    env = { SLACK_WEBHOOK_URL: `${sink.url}${secretPath}` };
  });
  afterAll(() => sink.close());
  beforeEach(() => {
    sink.requests.length = 0;
    sink.respond = () => ({ status: 200, body: 'ok' });
  });

  it('posts Block Kit with severity, title, deadlines, links, the mention and Acknowledge / Resolve buttons', async () => {
    const result = await slackSender.send(
      samplePage({ incident: sampleIncident({ title: 'Checkout <b>down</b> & out' }) }),
      channel,
      ctx(env),
    );
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(sink.requests).toHaveLength(1);
    const req = sink.requests[0]!;
    expect(req.url).toBe(secretPath);
    expect(req.headers['content-type']).toContain('application/json');
    const body = JSON.parse(req.body) as { text: string; blocks: Record<string, unknown>[] };
    expect(body.text).toContain('<@U0000LEAD>');
    expect(body.text).toContain('Checkout &lt;b&gt;down&lt;/b&gt; &amp; out');
    const header = body.blocks[0] as { type: string; text: { text: string } };
    expect(header.type).toBe('header');
    expect(header.text.text).toBe('🔴 SEV1 · Checkout <b>down</b> & out');
    const all = JSON.stringify(body.blocks);
    expect(all).toContain('Checkout &lt;b&gt;down&lt;/b&gt; &amp; out');
    expect(all).toContain('<@U0000LEAD> Paging Engineering Lead: escalation step 2 (secondary).');
    expect(all).toContain('<!date^1795773900^{date_short_pretty} {time}|2026-11-27T10:05:00Z>');
    expect(all).toContain('<!date^1795775400^{date_short_pretty} {time}|2026-11-27T10:30:00Z>');
    expect(all).toContain('<https://status.example.com/checkout|Status page>');
    const actions = body.blocks.find((b) => b.type === 'actions') as {
      elements: { action_id: string; value?: string; style?: string; url?: string }[];
    };
    expect(actions.elements.map((e) => [e.action_id, e.value, e.style])).toEqual([
      ['guardia_ack', '12', 'primary'],
      ['guardia_resolve', '12', 'danger'],
      ['guardia_open', undefined, undefined],
    ]);
  });

  it('Spanish buttons for a Spanish reader; no buttons once resolved', () => {
    const es = slackPayload(
      samplePage({ recipient: { person_id: 'cto', name: 'CTO', language: 'es', slack_user: 'U00000CTO' } }),
    );
    expect(JSON.stringify(es.blocks)).toContain('"text":"Reconocer"');
    expect(JSON.stringify(es.blocks)).toContain('"text":"Resolver"');
    const resolved = slackPayload(
      samplePage({ kind: 'resolved', recipient: null, incident: sampleIncident({ status: 'resolved' }) }),
    );
    const actions = resolved.blocks.find((b) => b.type === 'actions') as {
      elements: { action_id: string }[];
    };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['guardia_open']);
    expect(escapeMrkdwn('<@here> & <!channel>')).toBe('&lt;@here&gt; &amp; &lt;!channel&gt;');
  });

  it('500 and 429 are retryable, other 4xx are not; the webhook URL never appears in the detail', async () => {
    sink.respond = () => ({ status: 500, body: 'internal_error' });
    const r500 = await slackSender.send(samplePage(), channel, ctx(env));
    expect(r500).toMatchObject({ ok: false, retryable: true, status: 500 });
    expect(r500.detail).toContain('500 internal_error');

    sink.respond = () => ({ status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } });
    const r429 = await slackSender.send(samplePage(), channel, ctx(env));
    expect(r429).toMatchObject({ ok: false, retryable: true, status: 429 });
    expect(r429.detail).toContain('Retry-After 30');

    sink.respond = () => ({ status: 404, body: `no_service ${secretPath}` });
    const r404 = await slackSender.send(samplePage(), channel, ctx(env));
    expect(r404).toMatchObject({ ok: false, retryable: false, status: 404 });
    expect(r404.detail).toContain('no_service');

    for (const r of [r500, r429, r404]) {
      expect(r.detail).not.toContain('s3cr3tW3bh00kT0k3n');
      expect(r.detail).not.toContain(sink.url);
    }
  });

  it('network errors and timeouts are retryable', async () => {
    const closedPort = await freePort();
    const refused = await slackSender.send(
      samplePage(),
      channel,
      ctx({ SLACK_WEBHOOK_URL: `http://127.0.0.1:${closedPort}${secretPath}` }),
    );
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(refused.detail).toContain('ECONNREFUSED');
    expect(refused.detail).not.toContain('s3cr3t');

    // A server that accepts the connection but never answers.
    const hang = await import('node:http').then(
      (http) =>
        new Promise<{ url: string; close: () => void }>((resolve) => {
          const server = http.createServer(() => undefined);
          server.listen(0, '127.0.0.1', () =>
            resolve({
              url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
              close: () => {
                server.closeAllConnections();
                server.close();
              },
            }),
          );
        }),
    );
    const timedOut = await slackSender.send(
      samplePage(),
      channel,
      ctx({ SLACK_WEBHOOK_URL: `${hang.url}${secretPath}` }, { timeoutMs: 200 }),
    );
    hang.close();
    expect(timedOut).toMatchObject({ ok: false, retryable: true });
    expect(timedOut.detail).toContain('no answer within 200 ms');
  });

  it('an unset webhook URL is a permanent failure naming the variable', async () => {
    const result = await slackSender.send(samplePage(), channel, ctx({}));
    expect(result).toEqual({
      ok: false,
      retryable: false,
      detail: 'Slack channel "test-channel" is not configured: set SLACK_WEBHOOK_URL on the Guardia server',
    });
  });
});

describe('Slack interactivity signing', () => {
  it('computes the documented signature of the test vector', () => {
    const v = fixture('slack-signature-test-vector') as Record<string, string>;
    expect(slackSignature(v.signing_secret!, v['X-Slack-Request-Timestamp']!, v.rawBody!)).toBe(
      v['X-Slack-Signature'],
    );
  });

  it('verifies the block_actions fixture over its raw bytes, inside the 300 s window only', () => {
    const f = fixture('slack-block-actions') as {
      _secret: string;
      request: { headers: Record<string, string>; rawBody: string };
    };
    const ts = f.request.headers['X-Slack-Request-Timestamp']!;
    const sig = f.request.headers['X-Slack-Signature'];
    const at = (s: number) => new Date(s * 1000);
    expect(verifySlackRequest(f.request.rawBody, ts, sig, f._secret, at(Number(ts) + 10))).toEqual({
      ok: true,
    });
    const stale = verifySlackRequest(f.request.rawBody, ts, sig, f._secret, at(Number(ts) + 301));
    expect(stale).toMatchObject({ ok: false });
    expect(stale.ok ? '' : stale.reason).toContain('stale');
    expect(verifySlackRequest(f.request.rawBody + 'x', ts, sig, f._secret, at(Number(ts)))).toMatchObject({
      ok: false,
    });
    expect(verifySlackRequest(f.request.rawBody, ts, sig, 'another-secret', at(Number(ts)))).toMatchObject({
      ok: false,
    });
    // The fixture's button is another app's ("ack"), so Guardia answers and does nothing.
    expect(parseSlackInteraction(f.request.rawBody)).toEqual({
      kind: 'ignored',
      reason: 'action ack is not a Guardia action',
    });
  });
});

describe('email over SMTP', () => {
  let smtp: SmtpSink;
  const channel: Channel<'email'> = {
    type: 'email',
    smtp_url: { env: 'SMTP_URL' },
    from: 'Guardia <guardia@example.com>',
    to: ['ops@example.com'],
  };
  beforeAll(async () => {
    smtp = await startSmtpSink();
  });
  afterAll(() => smtp.close());
  beforeEach(() => {
    smtp.messages.length = 0;
  });

  it("delivers a page to the person's address with text and HTML, both carrying the acknowledge link", async () => {
    const ackUrl = 'http://127.0.0.1:8080/ack/eyJpIjoxMn0.c2lnbmF0dXJl';
    const result = await emailSender.send(
      samplePage({ ack_url: ackUrl }),
      channel,
      ctx({ SMTP_URL: smtp.url }),
    );
    expect(result).toMatchObject({ ok: true, retryable: false, status: 250 });
    expect(result.detail).toContain('eng-lead@example.com');
    expect(smtp.messages).toHaveLength(1);
    const msg = smtp.messages[0]!;
    expect(msg.from).toBe('guardia@example.com');
    expect(msg.to).toEqual(['eng-lead@example.com']);
    const raw = decodeQuotedPrintable(msg.raw);
    expect(raw).toMatch(/^Subject: /m);
    expect(raw).toContain('Content-Type: text/plain');
    expect(raw).toContain('Content-Type: text/html');
    expect(raw).toContain(`Acknowledge: ${ackUrl}`);
    expect(raw).toContain(`<a href="${ackUrl}"`);
    expect(raw).toMatch(/^Auto-Submitted: auto-generated/m);
    expect(raw).toMatch(/^X-Guardia-Incident: 12/m);
  });

  it("team messages go to the channel's list", async () => {
    const result = await emailSender.send(
      samplePage({ kind: 'opened', recipient: null }),
      channel,
      ctx({ SMTP_URL: smtp.url }),
    );
    expect(result.ok).toBe(true);
    expect(smtp.messages[0]!.to).toEqual(['ops@example.com']);
  });

  it('CR/LF in a title cannot add a header or a recipient', async () => {
    const result = await emailSender.send(
      samplePage({ incident: sampleIncident({ title: 'Disk full\r\nBcc: evil@x.example\r\n\r\nbody' }) }),
      channel,
      ctx({ SMTP_URL: smtp.url }),
    );
    expect(result.ok).toBe(true);
    const msg = smtp.messages[0]!;
    expect(msg.to).toEqual(['eng-lead@example.com']);
    const headers = msg.raw.split('\r\n\r\n')[0]!;
    expect(headers).not.toMatch(/^Bcc:/im);
    expect(headers).not.toContain('evil@x.example\r\n');
  });

  it('an address with CR/LF is refused, not parsed into extra recipients', async () => {
    const result = await emailSender.send(
      samplePage({
        recipient: {
          person_id: 'x',
          name: 'X',
          language: 'en',
          address: 'x@example.com\r\nBcc: evil@x.example',
        },
      }),
      channel,
      ctx({ SMTP_URL: smtp.url }),
    );
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(smtp.messages).toHaveLength(0);
    expect(parseMailbox('x@example.com\r\nBcc: evil@x')).toBeUndefined();
    expect(parseMailbox('"Guardia Bot" <g@example.com>')).toEqual({
      name: 'Guardia Bot',
      address: 'g@example.com',
    });
  });

  it('SMTP 4xx is retryable, 5xx is permanent, a dead server is retryable; the password never shows', async () => {
    const replies: Record<string, { code: number; text: string }> = {
      'full@example.com': { code: 452, text: 'Mailbox full, try later' },
      'nobody@example.com': { code: 550, text: 'No such user' },
    };
    const server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.password === 'right-password') return callback(null, { user: auth.username });
        const err = Object.assign(new Error('Authentication failed'), { responseCode: 535 });
        return callback(err);
      },
      onRcptTo(address, _session, callback) {
        const reply = replies[address.address];
        if (!reply) return callback();
        return callback(Object.assign(new Error(reply.text), { responseCode: reply.code }));
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as AddressInfo).port;
    const url = `smtp://guardia:right-password@127.0.0.1:${port}`;
    const to = (address: string): OutboundMessage =>
      samplePage({ recipient: { person_id: 'p', name: 'P', language: 'en', address } });
    try {
      const full = await emailSender.send(to('full@example.com'), channel, ctx({ SMTP_URL: url }));
      expect(full).toMatchObject({ ok: false, retryable: true, status: 452 });
      const nobody = await emailSender.send(to('nobody@example.com'), channel, ctx({ SMTP_URL: url }));
      expect(nobody).toMatchObject({ ok: false, retryable: false, status: 550 });
      expect(nobody.detail).toContain('No such user');
      const badAuth = await emailSender.send(
        to('ok@example.com'),
        channel,
        ctx({ SMTP_URL: `smtp://guardia:wr0ng-p%40ss@127.0.0.1:${port}` }),
      );
      expect(badAuth).toMatchObject({ ok: false, retryable: false, status: 535 });
      const good = await emailSender.send(to('ok@example.com'), channel, ctx({ SMTP_URL: url }));
      expect(good.ok).toBe(true);
      for (const r of [full, nobody, badAuth, good]) {
        expect(r.detail).not.toContain('right-password');
        expect(r.detail).not.toContain('wr0ng');
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const dead = await emailSender.send(
      to('ok@example.com'),
      channel,
      ctx({ SMTP_URL: `smtp://u:secretpw@127.0.0.1:${await freePort()}` }),
    );
    expect(dead).toMatchObject({ ok: false, retryable: true });
    expect(dead.detail).not.toContain('secretpw');
  });

  it('unset SMTP URL and a person without an address are permanent failures that say what to fix', async () => {
    expect(await emailSender.send(samplePage(), channel, ctx({}))).toMatchObject({
      ok: false,
      retryable: false,
      detail: 'email channel "test-channel" is not configured: set SMTP_URL on the Guardia server',
    });
    const noAddress = await emailSender.send(
      samplePage({ recipient: { person_id: 'p', name: 'Pat', language: 'en' } }),
      channel,
      ctx({ SMTP_URL: smtp.url }),
    );
    expect(noAddress).toMatchObject({ ok: false, retryable: false });
    expect(noAddress.detail).toContain('Pat has no email address');
  });
});

describe('GitHub Issues', () => {
  let gh: GitHubStandIn;
  const token = 'ghp_test_token_0123456789';
  const channel: Channel<'github-issues'> = { type: 'github-issues', labels: ['incident', 'backup'] };
  let ghPolicy: Policy;
  const env = { GITHUB_TOKEN: token };
  const key = 'gh:acme/app:.github/workflows/backup-restore-smoke.yml:main';
  const failure = (
    kind: OutboundMessage['kind'],
    run: number,
    extra: Partial<OutboundMessage['incident']> = {},
  ) =>
    samplePage({
      kind,
      recipient: null,
      incident: sampleIncident({
        id: 7,
        severity: 'sev2',
        title: 'backup-restore-smoke.yml failed on main',
        dedup_key: key,
        route: 'backup-smoke',
        links: [{ href: `https://github.com/acme/app/actions/runs/${run}`, text: `run ${run}` }],
        ...extra,
      }),
      incident_url: 'http://127.0.0.1:8080/incidents/7',
    });
  beforeAll(async () => {
    gh = await startGitHubStandIn('acme/app', token);
    ghPolicy = { ...policy, github: { ...policy.github, api_url: `${gh.url}/`, repo: 'acme/app' } };
  });
  afterAll(() => gh.close());
  const ghCtx = (overrides: Partial<DeliveryContext> = {}) =>
    ctx(env, { policy: ghPolicy, channelName: 'issue-tracker', ...overrides });

  it('the first failure opens one issue with the run link; the second comments on it; success closes it', async () => {
    const first = await githubIssuesSender.send(failure('opened', 101), channel, ghCtx());
    expect(first).toMatchObject({ ok: true, status: 201 });
    expect(first.detail).toContain('opened GitHub issue acme/app#1');
    expect(gh.issues).toHaveLength(1);
    const issue = gh.issues[0]!;
    expect(issue.title).toBe('[SEV2] backup-restore-smoke.yml failed on main');
    expect(issue.labels).toEqual(['incident', 'backup']);
    expect(issue.body).toContain('https://github.com/acme/app/actions/runs/101');
    expect(issue.body).toContain('http://127.0.0.1:8080/incidents/7');
    const create = gh.sink.requests.find((r) => r.method === 'POST' && r.url === '/repos/acme/app/issues')!;
    expect(create.headers.authorization).toBe(`Bearer ${token}`);
    expect(create.headers.accept).toBe('application/vnd.github+json');
    expect(create.headers['x-github-api-version']).toBe('2022-11-28');
    expect(await refs.get('issue-tracker', key)).toBe('1');

    const second = await githubIssuesSender.send(
      failure('attached', 102, { alert_count: 2 }),
      channel,
      ghCtx(),
    );
    expect(second).toMatchObject({ ok: true, detail: 'commented on GitHub issue acme/app#1' });
    expect(gh.issues).toHaveLength(1);
    expect(issue.comments).toHaveLength(1);
    expect(issue.comments[0]).toContain('Failed again');
    expect(issue.comments[0]).toContain('https://github.com/acme/app/actions/runs/102');

    const resolved = await githubIssuesSender.send(
      failure('resolved', 102, { status: 'resolved' }),
      channel,
      ghCtx(),
    );
    expect(resolved).toMatchObject({ ok: true, detail: 'closed GitHub issue acme/app#1' });
    expect(issue.state).toBe('closed');
    expect(issue.comments.at(-1)).toContain('succeeded again');
    expect(await refs.get('issue-tracker', key)).toBeUndefined();

    const again = await githubIssuesSender.send(failure('opened', 103), channel, ghCtx());
    expect(again.detail).toContain('acme/app#2');
    expect(gh.issues.map((i) => i.state)).toEqual(['closed', 'open']);
  });

  it('a lost ref does not open a second issue: the open issue is found by its marker', async () => {
    await refs.delete('issue-tracker', key);
    const result = await githubIssuesSender.send(failure('attached', 104), channel, ghCtx());
    expect(result).toMatchObject({ ok: true, detail: 'commented on GitHub issue acme/app#2' });
    expect(gh.issues).toHaveLength(2);
    expect(await refs.get('issue-tracker', key)).toBe('2');
  });

  it('rate limits and 5xx are retryable; 422 and bad credentials are not; the token never shows', async () => {
    const otherKey = { dedup_key: 'gh:acme/app:other.yml:main' };
    gh.failWith = {
      status: 403,
      body: JSON.stringify({ message: 'API rate limit exceeded' }),
      headers: { 'x-ratelimit-remaining': '0', 'content-type': 'application/json' },
    };
    const limited = await githubIssuesSender.send(failure('opened', 1, otherKey), channel, ghCtx());
    expect(limited).toMatchObject({ ok: false, retryable: true, status: 403 });
    expect(limited.detail).toContain('rate limited');
    gh.failWith = { status: 429, body: '{}' };
    expect(await githubIssuesSender.send(failure('opened', 1, otherKey), channel, ghCtx())).toMatchObject({
      retryable: true,
    });
    gh.failWith = { status: 502, body: 'bad gateway' };
    expect(await githubIssuesSender.send(failure('opened', 1, otherKey), channel, ghCtx())).toMatchObject({
      retryable: true,
    });
    gh.failWith = { status: 422, body: JSON.stringify({ message: `Validation Failed ${token}` }) };
    const invalid = await githubIssuesSender.send(failure('opened', 1, otherKey), channel, ghCtx());
    expect(invalid).toMatchObject({ ok: false, retryable: false, status: 422 });
    gh.failWith = undefined;
    const badToken = await githubIssuesSender.send(
      failure('opened', 1, otherKey),
      channel,
      ghCtx({ env: { GITHUB_TOKEN: 'ghp_wrong_token_zzzz' } }),
    );
    expect(badToken).toMatchObject({ ok: false, retryable: false, status: 401 });
    for (const r of [limited, invalid, badToken]) {
      expect(r.detail).not.toContain(token);
      expect(r.detail).not.toContain('ghp_wrong_token_zzzz');
    }
  });

  it('no repository or no token is a permanent failure saying what to set', async () => {
    const noRepo = await githubIssuesSender.send(
      failure('opened', 1),
      channel,
      ghCtx({ policy: { ...ghPolicy, github: { ...ghPolicy.github, repo: undefined } } }),
    );
    expect(noRepo).toMatchObject({ ok: false, retryable: false });
    expect(noRepo.detail).toContain('github.repo');
    const noToken = await githubIssuesSender.send(failure('opened', 1), channel, ghCtx({ env: {} }));
    expect(noToken).toMatchObject({ ok: false, retryable: false });
    expect(noToken.detail).toContain('set GITHUB_TOKEN');
  });

  it('the request matches the documented create-issue shape', () => {
    const f = fixture('github-create-issue') as { request: { headers: Record<string, string> } };
    const create = gh.sink.requests.find((r) => r.method === 'POST' && r.url === '/repos/acme/app/issues')!;
    for (const name of ['Accept', 'X-GitHub-Api-Version'])
      expect(create.headers[name.toLowerCase()]).toBe(f.request.headers[name]);
    expect(Object.keys(JSON.parse(create.body) as object).sort()).toEqual(['body', 'labels', 'title']);
  });
});

describe('signed webhook', () => {
  let sink: HttpSink;
  const channel = (url: string): Channel<'webhook'> => ({
    type: 'webhook',
    url,
    secret: { env: 'HOOK_SECRET' },
  });
  const env = { HOOK_SECRET: 'whsec_0123456789abcdef' };
  beforeAll(async () => {
    sink = await startHttpSink();
  });
  afterAll(() => sink.close());

  it('posts the message signed with t and v1; the receiver verifies it and refuses tampering and replays', async () => {
    const result = await webhookSender.send(
      samplePage({ kind: 'breach', breach: 'mitigate' }),
      channel(`${sink.url}/guardia`),
      ctx(env),
    );
    expect(result).toMatchObject({ ok: true, status: 200 });
    const req = sink.requests.at(-1)!;
    expect(req.headers['x-guardia-event']).toBe('breach');
    const sig = req.headers['x-guardia-signature'] as string;
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const body = JSON.parse(req.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['kind', 'incident', 'recipient', 'step', 'breach', 'incident_url']);
    expect(body).toMatchObject({
      kind: 'breach',
      breach: 'mitigate',
      step: { index: 1, roles: ['secondary'] },
    });
    const now = Date.now();
    expect(verifyGuardiaSignature(req.body, sig, env.HOOK_SECRET, now)).toBe(true);
    expect(verifyGuardiaSignature(req.body.replace('breach', 'bre4ch'), sig, env.HOOK_SECRET, now)).toBe(
      false,
    );
    expect(verifyGuardiaSignature(req.body, sig, 'other-secret', now)).toBe(false);
    expect(verifyGuardiaSignature(req.body, sig, env.HOOK_SECRET, now + 301_000)).toBe(false);
    expect(verifyGuardiaSignature(req.body, undefined, env.HOOK_SECRET, now)).toBe(false);
    expect(guardiaSignature('k', 1700000000, '{}')).toBe(
      `t=1700000000,v1=${(await import('node:crypto')).createHmac('sha256', 'k').update('1700000000.{}').digest('hex')}`,
    );
  });

  it('5xx is retryable, 4xx is not; a token in the URL and the secret never show', async () => {
    const url = `${sink.url}/in?token=url-t0ken-secret`;
    sink.respond = () => ({ status: 503, body: 'down' });
    const down = await webhookSender.send(samplePage(), channel(url), ctx(env));
    expect(down).toMatchObject({ ok: false, retryable: true, status: 503 });
    sink.respond = () => ({ status: 400, body: `bad ${url}` });
    const bad = await webhookSender.send(samplePage(), channel(url), ctx(env));
    expect(bad).toMatchObject({ ok: false, retryable: false, status: 400 });
    for (const r of [down, bad]) {
      expect(r.detail).not.toContain('url-t0ken-secret');
      expect(r.detail).not.toContain(env.HOOK_SECRET);
    }
    expect(await webhookSender.send(samplePage(), channel(url), ctx({}))).toMatchObject({
      ok: false,
      retryable: false,
      detail:
        'webhook channel "test-channel" is not configured: set HOOK_SECRET (the signing secret) on the Guardia server',
    });
  });
});

describe('acknowledge link tokens', () => {
  const key = 'instance-secret-key';
  const now = new Date('2026-11-27T10:00:00Z');
  const claims = { incidentId: 12, personId: 'eng-lead', expiresAt: new Date('2026-11-28T10:00:00Z') };

  it('round-trips, and the link is publicUrl/ack/token', () => {
    const token = createAckToken(claims, key);
    expect(verifyAckToken(token, key, now)).toEqual({ incidentId: 12, personId: 'eng-lead' });
    expect(createAckLink(claims, key, 'https://guardia.example/')).toBe(
      `https://guardia.example/ack/${token}`,
    );
  });

  it('refuses expired, altered and foreign tokens with the right words', () => {
    const token = createAckToken(claims, key);
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(GuardiaError);
        expect((err as GuardiaError).code).toBe('unauthenticated');
        return (err as GuardiaError).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal(() => verifyAckToken(token, key, new Date('2026-11-28T10:00:00Z')))).toBe(
      'this acknowledge link has expired',
    );
    const [payload, sig] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ i: 13, p: 'eng-lead', e: 1900000000 })).toString('base64url');
    for (const bad of [
      `${forged}.${sig}`,
      `${payload}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`,
      `${payload}x.${sig}`,
      token + '.x',
      '',
    ]) {
      expect(refusal(() => verifyAckToken(bad, key, now))).toBe('this acknowledge link is not valid');
    }
    expect(refusal(() => verifyAckToken(token, 'another-key', now))).toBe(
      'this acknowledge link is not valid',
    );
    // An expired token that was also altered is "not valid", never "expired".
    expect(refusal(() => verifyAckToken(`${forged}.${sig}`, key, new Date('2030-01-01T00:00:00Z')))).toBe(
      'this acknowledge link is not valid',
    );
  });
});

/** A port nothing listens on (was free a moment ago). */
async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Decodes quoted-printable soft breaks and =XX escapes (nodemailer's body encoding for mostly-ASCII text). */
function decodeQuotedPrintable(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(joined[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

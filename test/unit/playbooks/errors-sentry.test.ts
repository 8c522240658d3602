import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSentryEvents, sentryEventsUrl, sentryQueryValue } from '../../../src/playbooks/probes/sentry.js';
import { parseSentryQuery, startSentryStandIn, type SentryStandIn } from '../../helpers/sentry-standin.js';

let sentry: SentryStandIn;
beforeAll(async () => {
  sentry = await startSentryStandIn({
    events: [
      {
        id: 'bb78c1407cea4519aa397afc059c793d',
        title: "TypeError: Cannot read properties of undefined (reading 'trim')",
        timestamp: '2026-11-28T10:00:00+00:00',
        project: 'refapp',
        issue: 'REFAPP-1A',
        culprit: 'leads.import',
        'error.type': ['TypeError'],
        'error.value': ["Cannot read properties of undefined (reading 'trim')"],
        transaction: '/api/trpc/leads.import',
        environment: 'production',
        tags: { request_id: 'req-500-a' },
      },
      {
        id: 'cc78c1407cea4519aa397afc059c793e',
        title: 'Error: other',
        timestamp: '2026-11-28T09:00:00+00:00',
        project: 'refapp',
        issue: 'REFAPP-2B',
        tags: { request_id: 'req with space' },
      },
    ],
  });
});
afterAll(async () => sentry.close());

describe('Sentry events API client', () => {
  it('builds the documented request: fields, request_id query, no token in the URL', () => {
    const url = new URL(
      sentryEventsUrl({ apiUrl: 'https://sentry.io/', org: 'acme', token: 't0k3n' }, 'abc-1'),
    );
    expect(url.pathname).toBe('/api/0/organizations/acme/events/');
    expect(url.searchParams.getAll('field')).toContain('title');
    expect(url.searchParams.get('query')).toBe('request_id:abc-1');
    expect(url.toString()).not.toContain('t0k3n');
    expect(sentryQueryValue('a b"c')).toBe('"a b\\"c"');
  });

  it('finds the event by request id with a bearer token', async () => {
    const found = await findSentryEvents(
      { apiUrl: sentry.url, org: sentry.org, token: sentry.token },
      'req-500-a',
    );
    expect(found.outcome).toBe('found');
    if (found.outcome !== 'found') return;
    expect(found.events).toHaveLength(1);
    expect(found.events[0]).toMatchObject({
      id: 'bb78c1407cea4519aa397afc059c793d',
      issue: 'REFAPP-1A',
      'error.type': ['TypeError'],
    });
    const req = sentry.sink.requests.at(-1)!;
    expect(req.headers.authorization).toBe(`Bearer ${sentry.token}`);
    const quoted = await findSentryEvents(
      { apiUrl: sentry.url, org: sentry.org, token: sentry.token },
      'req with space',
    );
    expect(quoted.outcome).toBe('found');
  });

  it('says none, and reports a bad token or org', async () => {
    expect(
      (await findSentryEvents({ ...sentry, apiUrl: sentry.url, token: sentry.token }, 'nope')).outcome,
    ).toBe('none');
    const bad = await findSentryEvents({ apiUrl: sentry.url, org: sentry.org, token: 'wrong' }, 'req-500-a');
    expect(bad).toMatchObject({
      outcome: 'error',
      status: 401,
      message: 'Sentry answered 401: Invalid token',
    });
    const org = await findSentryEvents(
      { apiUrl: sentry.url, org: 'other', token: sentry.token },
      'req-500-a',
    );
    expect(org).toMatchObject({ outcome: 'error', status: 404 });
    const down = await findSentryEvents({ apiUrl: 'http://127.0.0.1:1', org: 'acme', token: 'x' }, 'r', 500);
    expect(down.outcome).toBe('error');
  });

  it('stand-in parses the search syntax', () => {
    expect(parseSentryQuery('request_id:abc level:"fatal error" boom')).toEqual({
      filters: [
        ['request_id', 'abc'],
        ['level', 'fatal error'],
      ],
      text: ['boom'],
    });
  });
});

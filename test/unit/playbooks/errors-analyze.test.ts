import { describe, expect, it } from 'vitest';
import {
  decideByProcedure,
  decideRequest,
  ErrorRanking,
  foldLine,
  missingKeysHint,
  newFacts,
  proceduresOfUrl,
  stackRoot,
  summarizePayload,
  trimStack,
} from '../../../src/playbooks/errors/analyze.js';
import { parseLogLine } from '../../../src/playbooks/probes/logs.js';

const T0 = Date.parse('2026-11-28T10:00:00Z');
const line = (o: Record<string, unknown>) => parseLogLine(JSON.stringify(o), 'app.log');
const completed = (reqId: string, url: string, statusCode: number, t: number, method = 'POST') =>
  line({
    level: 30,
    time: t,
    reqId,
    msg: 'request completed',
    req: { method, url },
    res: { statusCode },
    responseTime: 12.4,
  });
const STACK = [
  "TypeError: Cannot read properties of undefined (reading 'trim')",
  '    at normalizeEmail (/app/src/routers.ts:121:16)',
  '    at /app/src/routers.ts:145:23',
  '    at Array.map (<anonymous>)',
  '    at node:internal/process/task_queues:95:5',
  '    at async resolveMiddleware (/app/node_modules/@trpc/server/dist/index.js:1:1)',
].join('\n');
const failed = (
  reqId: string,
  procedure: string,
  t: number,
  code = 'INTERNAL_SERVER_ERROR',
  input?: unknown,
) =>
  line({
    level: code === 'INTERNAL_SERVER_ERROR' ? 50 : 40,
    time: t,
    reqId,
    msg: 'procedure failed',
    procedure,
    path: `/api/trpc/${procedure}`,
    code,
    err: { type: 'TypeError', message: "Cannot read properties of undefined (reading 'trim')", stack: STACK },
    ...(input !== undefined ? { input } : {}),
  });

describe('procedures from URLs', () => {
  it('reads single calls, batches and ignores other paths', () => {
    expect(proceduresOfUrl('/api/trpc/leads.import')).toEqual(['leads.import']);
    expect(proceduresOfUrl('/api/trpc/leads.list?input=%7B%7D')).toEqual(['leads.list']);
    expect(proceduresOfUrl('/api/trpc/leads.list,chat.list?batch=1')).toEqual(['leads.list', 'chat.list']);
    expect(proceduresOfUrl('/healthz')).toEqual([]);
    expect(proceduresOfUrl('/api/trpc/')).toEqual([]);
  });
});

describe('payload summary', () => {
  it('keeps keys, types and lengths, never strings or secret-looking values', () => {
    const s = summarizePayload({
      tenantId: 1,
      password: 'hunter2-hunter2',
      apiKey: 12345,
      nested: { token: { a: 1 }, note: 'private note here', ok: true },
      leads: [
        { name: 'Ana', email: 'ana@example.com' },
        { name: 'Bob' },
        { name: 'Cy', email: null },
        { name: 'D' },
      ],
    });
    expect(s).toEqual({
      tenantId: 1,
      password: '<redacted>',
      apiKey: '<redacted>',
      nested: { token: '<redacted>', note: 'string(17)', ok: true },
      leads: {
        length: 4,
        items: [
          { name: 'string(3)', email: 'string(15)' },
          { name: 'string(3)' },
          { name: 'string(2)', email: null },
        ],
        missing: { email: 3 },
      },
    });
    const text = JSON.stringify(s);
    for (const v of ['hunter2', '12345', 'ana@example.com', 'private note']) expect(text).not.toContain(v);
    expect(missingKeysHint(s)).toEqual(['leads[]: 3 of 4 items lack email']);
  });

  it('keeps an app-side summary as it is', () => {
    const app = {
      tenantId: 1,
      leads: { length: 2, items: [{ email: 'string(9)' }, { name: 'string(3)' }], missing: { email: 1 } },
    };
    expect(summarizePayload(app)).toEqual(app);
    expect(missingKeysHint(app)).toEqual(['leads[]: 1 of 2 items lack email']);
  });
});

describe('stack trimming', () => {
  it('keeps the message and app frames, drops node internals, caps frames', () => {
    expect(trimStack(STACK)).toEqual([
      "TypeError: Cannot read properties of undefined (reading 'trim')",
      'at normalizeEmail (src/routers.ts:121:16)',
      'at src/routers.ts:145:23',
      'at Array.map (<anonymous>)',
      'at async resolveMiddleware (node_modules/@trpc/server/dist/index.js:1:1)',
    ]);
    expect(stackRoot(['at f (/srv/app/src/a.ts:1:1)', 'at file:///srv/app/lib/b.js:2:2'])).toBe('/srv/app/');
    expect(stackRoot(['at f (/a/x.ts:1:1)', 'at g (/b/y.ts:1:1)'])).toBeUndefined();
    expect(stackRoot(['at Array.map (<anonymous>)'])).toBeUndefined();
    expect(trimStack(STACK, 2).at(-1)).toBe('… 2 more frames');
  });
});

describe('5xx ranking', () => {
  it('counts 5xx per procedure from request and error lines, newest first, ignoring 4xx', () => {
    const r = new ErrorRanking();
    const lines = [
      // newest first, as the scanner reads them
      completed('r6', '/api/trpc/leads.import', 500, T0 + 6000),
      failed('r6', 'leads.import', T0 + 5990),
      completed('r5', '/api/trpc/chat.list?input=%7B%7D', 503, T0 + 5000, 'GET'),
      completed('r4', '/api/trpc/leads.import', 400, T0 + 4000),
      failed('r4', 'leads.import', T0 + 3990, 'BAD_REQUEST'),
      failed('r3', 'leads.import', T0 + 3000), // no completion line: implied 500
      completed('r2', '/api/trpc/leads.import', 500, T0 + 2000),
      completed('r1', '/api/trpc/leads.list', 200, T0 + 1000, 'GET'),
      parseLogLine('Error: something printed raw', 'app.log'),
    ];
    for (const l of lines) r.add(l);
    const ranking = r.ranking();
    expect(ranking.map((x) => [x.procedure, x.count])).toEqual([
      ['/api/trpc/leads.import', 3],
      ['/api/trpc/chat.list', 1],
    ]);
    expect(ranking[0]).toMatchObject({
      statuses: { '500': 3 },
      error_types: { TypeError: 2 },
      first_seen: new Date(T0 + 2000).toISOString(),
      last_seen: new Date(T0 + 6000).toISOString(),
      sample_request_ids: ['r6', 'r3', 'r2'],
    });
    const d = decideByProcedure(ranking, 3_600_000, lines.length);
    expect(d.status).toBe('fail');
    expect(d.summary.en).toBe(
      '4 5xx in the last 60 min; most: /api/trpc/leads.import 3, /api/trpc/chat.list 1',
    );
    expect(d.mitigation?.es).toContain('Aplicar hotfix mínimo y seguro');
    expect(d.mitigation?.es).toContain('feature flag/rollback del módulo');
    expect(d.mitigation?.es).toContain('documentar RCA con causa raíz + acción preventiva');
    expect(decideByProcedure([], 3_600_000, 10).status).toBe('pass');
  });
});

describe('one request', () => {
  it('reports procedure, status, stack and payload shape of a 500', () => {
    const f = newFacts('req-1');
    foldLine(f, completed('req-1', '/api/trpc/leads.import', 500, T0 + 10));
    foldLine(
      f,
      failed('req-1', 'leads.import', T0, 'INTERNAL_SERVER_ERROR', {
        tenantId: 1,
        leads: { length: 2, items: [{ email: 'string(9)' }, { name: 'string(3)' }], missing: { email: 1 } },
      }),
    );
    const d = decideRequest('req-1', f, 3_600_000);
    expect(d.status).toBe('fail');
    expect(d.summary.en).toBe(
      "POST /api/trpc/leads.import answered 500 for request req-1: TypeError: Cannot read properties of undefined (reading 'trim'); leads[]: 1 of 2 items lack email",
    );
    expect(d.evidence).toMatchObject({
      procedure: '/api/trpc/leads.import',
      status: 500,
      trpc_code: 'INTERNAL_SERVER_ERROR',
      response_time_ms: 12,
      payload: { tenantId: 1 },
    });
    expect((d.evidence.stack as string[])[1]).toBe('at normalizeEmail (src/routers.ts:121:16)');
    expect(d.evidence.stack_root).toBe('/app/');
    // People's output shows the first entries: the procedure, the status, the stack and the payload come first.
    expect(Object.keys(d.evidence).slice(0, 5)).toEqual([
      'procedure',
      'status',
      'stack',
      'payload',
      'payload_hints',
    ]);
  });

  it('warns on a 4xx and on an unknown request id', () => {
    const f = newFacts('r');
    foldLine(f, completed('r', '/api/trpc/leads.import', 400, T0));
    expect(decideRequest('r', f, 3_600_000).status).toBe('warn');
    const missing = decideRequest('nope', newFacts('nope'), 3_600_000);
    expect(missing.status).toBe('warn');
    expect(missing.summary.en).toContain('no log line carries request id nope');
  });
});

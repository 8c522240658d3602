/**
 * `/api/v1/openapi.json` (DESIGN.md §4): a valid OpenAPI 3.1 document that describes every route the app serves,
 * with the role each one needs and the schemas the routes really validate with — so a client generated from it,
 * or a person reading it, sees the same contract the server enforces.
 */
import fs from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../src/server/app.js';
import { bearer, startTestApp, type TestApp } from '../helpers/harness.js';

type Operation = {
  summary: string;
  security: unknown[];
  'x-guardia-role'?: string;
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: unknown }>;
};
type Document = {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
};

describe('GET /api/v1/openapi.json', () => {
  let t: TestApp;
  let doc: Document;

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/openapi.json',
      headers: bearer(t.tokens.viewer),
    });
    expect(res.statusCode, res.body).toBe(200);
    doc = res.json();
  });
  afterAll(async () => {
    await t.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)?.slice(0, 2000)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    // The version constant follows package.json (it cannot read the file: the server also runs bundled).
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(doc.info.version).toBe(pkg.version);
  });

  it('describes every route the app registered, each with a summary (a new route cannot skip its docs)', () => {
    const served = routeTable(t.app)
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{token}')}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...new Set(served)].sort());
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        expect(op.summary.length, `${method} ${path}`).toBeGreaterThan(10);
  });

  it('names the role every /api/v1 operation needs, as its preHandler enforces it', () => {
    const roles = routeTable(t.app).filter((r) => r.url.startsWith('/api/v1/') && r.method !== 'HEAD');
    expect(roles.length).toBeGreaterThan(15);
    for (const route of roles) {
      const op = doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]![route.method.toLowerCase()]!;
      expect(op['x-guardia-role'], `${route.method} ${route.url}`).toBe(route.role);
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(op.responses['401'], `${route.method} ${route.url} documents 401`).toBeDefined();
    }
    // Inbound doors authenticate themselves (signatures, routing keys, signed links): no bearer token.
    expect(doc.paths['/v2/enqueue']!.post!.security).toEqual([]);
  });

  it("carries the routes' own validation schemas: declare, list and the error shape", () => {
    const declare = doc.paths['/api/v1/incidents']!.post!;
    const body = declare.requestBody!.content['application/json']!.schema as {
      required: string[];
      properties: Record<string, { enum?: string[]; maxLength?: number }>;
    };
    expect(body.required.sort()).toEqual(['severity', 'title']);
    expect(body.properties.severity!.enum!.sort()).toEqual(Object.keys(t.policy.severities).sort());
    expect(body.properties.title!.maxLength).toBe(1024);

    const ack = doc.paths['/api/v1/incidents/{id}/acknowledge']!.post!;
    expect(ack.requestBody, 'the note is optional, so is the body').toMatchObject({ required: false });
    expect(declare.requestBody).toMatchObject({ required: true });

    const list = doc.paths['/api/v1/incidents']!.get!.parameters;
    const status = list.find((p) => p.name === 'status')!;
    expect(status).toMatchObject({ in: 'query', required: false });
    expect(status.schema.enum).toEqual(expect.arrayContaining(['open', 'all', 'resolved']));
    expect(list.find((p) => p.name === 'limit')!.schema).toMatchObject({ maximum: 500 });

    const show = doc.paths['/api/v1/incidents/{id}']!.get!;
    expect(show.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(show.responses['404']!.content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/Error' } },
    });
  });

  it('needs a token like every /api/v1 route', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthenticated');
  });
});

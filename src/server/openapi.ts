/**
 * The OpenAPI 3.1 document served at `/api/v1/openapi.json` (DESIGN.md §4), generated from the route table: each
 * route declares its summary and the zod schemas it validates with (`config: { doc }`), so the document cannot
 * drift from what the routes accept — the same schemas do the validating. Required roles come from the routes'
 * `requireRole` preHandlers.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../shared/errors.js';
import type { Role } from '../services/tokens.js';

/** What a route says about itself for the OpenAPI document. */
export interface RouteDoc {
  summary: string;
  description?: string;
  /** Groups operations (Incidents, Alerts, …). */
  tag: string;
  params?: z.ZodType;
  query?: z.ZodType;
  /** A JSON body validated by this schema, or `raw` for a provider's own format checked by its adapter. */
  body?: z.ZodType | { raw: string };
  /** Status → what it means for this route; error statuses answer with the Error schema, unless… */
  responses: Record<number, string>;
  /** …the route answers errors in a format of its own (PagerDuty's JSON; an HTML page for a person). */
  ownErrorFormat?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    doc?: RouteDoc;
  }
}

/** A route as the document needs it (a row of the app's route table). */
export interface DocumentedRoute {
  method: string;
  url: string;
  role?: Role;
  doc?: RouteDoc;
}

type JsonSchema = Record<string, unknown>;

/** The JSON Schema of what a caller may send (coercions and defaults describe the input side). */
function inputSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema; // OpenAPI 3.1 documents share one dialect, declared once
  return json;
}

/** Query or path parameters from an object schema: one parameter per property. */
function parameters(schema: z.ZodType | undefined, where: 'query' | 'path', pathNames: string[]): unknown[] {
  if (!schema) {
    return where === 'path'
      ? pathNames.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }))
      : [];
  }
  const json = inputSchema(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

/** Fastify's `/a/:id/b` and `/ack/*` as OpenAPI paths. */
function openApiPath(url: string): { path: string; pathNames: string[] } {
  const pathNames: string[] = [];
  const path = url
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        pathNames.push(segment.slice(1));
        return `{${segment.slice(1)}}`;
      }
      if (segment === '*') {
        pathNames.push('token');
        return '{token}';
      }
      return segment;
    })
    .join('/');
  return { path, pathNames };
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: ERROR_CODES },
        message: {
          type: 'string',
          description: 'What is wrong, for people: the field, what was expected, what came.',
        },
        details: {
          description: 'Machine-readable specifics, e.g. `issues: [{ field, message }]` for invalid input.',
        },
      },
    },
  },
} as const;

/** Builds the document from the routes the app registered (HEAD twins and undocumented routes are left out). */
export function openApiDocument(routes: DocumentedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (!route.doc || route.method === 'HEAD' || route.method === 'OPTIONS') continue;
    const { doc } = route;
    const { path, pathNames } = openApiPath(route.url);
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(doc.responses)) {
      responses[status] =
        Number(status) >= 400 && !doc.ownErrorFormat
          ? {
              description,
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            }
          : { description };
    }
    const body =
      doc.body === undefined
        ? undefined
        : 'raw' in doc.body
          ? { required: true, description: doc.body.raw, content: { '*/*': { schema: {} } } }
          : {
              // A body whose schema has a default (e.g. an optional note) may be left out.
              required: !doc.body.safeParse(undefined).success,
              content: { 'application/json': { schema: inputSchema(doc.body) } },
            };
    const operation: Record<string, unknown> = {
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      tags: [doc.tag],
      parameters: [...parameters(doc.params, 'path', pathNames), ...parameters(doc.query, 'query', [])],
      ...(body ? { requestBody: body } : {}),
      responses,
      // Routes without a role authenticate themselves (signatures, routing keys, signed links) or are public.
      ...(route.role ? { security: [{ bearer: [] }], 'x-guardia-role': route.role } : { security: [] }),
    };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Guardia API',
      version,
      description:
        'Alerts in, incidents with SLA clocks, on-call, evidence and the release gate. JSON fields are snake_case; ' +
        'every error is `{ "error": { "code", "message", "details"? } }`. API routes need ' +
        '`Authorization: Bearer <token>` (`guardia tokens create --role viewer|responder|admin`); ' +
        '`x-guardia-role` on an operation is the least role it needs.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A Guardia API token' } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}

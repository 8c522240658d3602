/**
 * Evidence API (`/api/v1/evidence`): the ledger's status per period, manual evidence with attachments, weekly
 * incident reviews, and attachment downloads. Thin routes — validate, authorize, call the service, present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_ATTACHMENTS } from '../../services/evidence.js';
import { invalidInput } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import type { EvidenceRecord } from '../../store/evidence-repo.js';
import { actorOf, requireRole } from '../auth.js';
import type { RouteDoc } from '../openapi.js';
import type { AppServices } from '../context.js';

/** A POST carries its attachments as base64 (4/3 of their size): room for one 10 MiB file, or several smaller. */
const EVIDENCE_BODY_LIMIT = 16 * 1024 * 1024;

const linkSchema = z.object({
  href: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).max(2048),
  text: z.string().max(1024).optional(),
});

export const statusQuerySchema = z.object({
  /** One period, or several separated by commas; default: the current week and month. */
  period: z
    .string()
    .max(200)
    .optional()
    .transform((p) =>
      p === undefined
        ? undefined
        : p
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    ),
});

export const recordBodySchema = z.object({
  requirement_id: z.string().min(1).max(100),
  period: z.string().max(20).optional(),
  status: z.enum(['success', 'failure']),
  summary: z.string().trim().min(1, 'must not be empty').max(4096),
  links: z.array(linkSchema).max(50).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  attachments: z
    .array(
      z.object({
        filename: z.string().min(1).max(255),
        content_type: z.string().max(255).optional(),
        content_base64: z.string().min(1),
      }),
    )
    .max(MAX_ATTACHMENTS)
    .optional(),
});

export const reviewBodySchema = z.object({
  week: z.string().max(20).optional(),
  note: z.string().trim().min(1, 'must not be empty: say who reviewed and what was concluded').max(8192),
});

const idParamsSchema = z.object({
  id: z.coerce.number().int().positive({ message: 'expected a positive attachment id' }),
});

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

/** Decodes `content_base64`, refusing text that is not base64 (Buffer.from would silently skip it). */
export function decodeBase64(text: string, field: string): Buffer {
  if (!BASE64.test(text))
    throw invalidInput([
      { field, message: 'expected base64 (RFC 4648, standard alphabet)', received: 'other text' },
    ]);
  return Buffer.from(text, 'base64');
}

/** A record as the API and the CLI's --json show it. */
export function presentRecord(record: EvidenceRecord) {
  return {
    id: record.id,
    requirement_id: record.requirement_id,
    period: record.period,
    status: record.status,
    summary: record.summary,
    source: record.source,
    recorded_by: record.recorded_by,
    recorded_at: record.recorded_at,
    links: record.links,
    data: record.data,
    attachments: record.attachments.map((a) => ({ ...a, url: `/api/v1/evidence/attachments/${a.id}` })),
  };
}

export async function evidenceRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  const viewer = requireRole(services.tokens, 'viewer');
  const responder = requireRole(services.tokens, 'responder');

  app.get(
    '/api/v1/evidence',
    {
      preHandler: viewer,
      config: {
        doc: {
          tag: 'Evidence',
          summary: 'Evidence status per requirement for a period (weekly, monthly, quarterly)',
          query: statusQuerySchema,
          responses: {
            200: 'Each requirement: recorded, missing or overdue, with its records',
            400: 'A bad period',
            401: 'No or a bad token',
          },
        } satisfies RouteDoc,
      },
    },
    async (request) => {
      const { period } = parseOrThrow(statusQuerySchema, request.query);
      return services.evidence.status(period);
    },
  );

  app.post(
    '/api/v1/evidence',
    {
      preHandler: responder,
      bodyLimit: EVIDENCE_BODY_LIMIT,
      config: {
        doc: {
          tag: 'Evidence',
          summary: 'Record evidence for a requirement (with optional attachments, base64)',
          body: recordBodySchema,
          responses: {
            201: 'The record',
            400: 'Invalid input (names the field)',
            401: 'No or a bad token',
            403: 'Needs responder',
            413: 'Attachments too large',
          },
        } satisfies RouteDoc,
      },
    },
    async (request, reply) => {
      const body = parseOrThrow(recordBodySchema, request.body);
      const record = await services.evidence.record(
        {
          ...body,
          attachments: body.attachments?.map((a, i) => ({
            filename: a.filename,
            ...(a.content_type === undefined ? {} : { content_type: a.content_type }),
            content: decodeBase64(a.content_base64, `attachments.${i}.content_base64`),
          })),
        },
        actorOf(request),
      );
      return reply.status(201).send(presentRecord(record));
    },
  );

  app.post(
    '/api/v1/evidence/reviews',
    {
      preHandler: responder,
      config: {
        doc: {
          tag: 'Evidence',
          summary: "Record the weekly review (the runbook's Monday ritual) for a week",
          body: reviewBodySchema,
          responses: {
            201: 'The record',
            400: 'Invalid input',
            401: 'No or a bad token',
            403: 'Needs responder',
          },
        } satisfies RouteDoc,
      },
    },
    async (request, reply) => {
      const body = parseOrThrow(reviewBodySchema, request.body ?? {});
      const record = await services.evidence.recordWeeklyReview(body.week, body.note, actorOf(request));
      return reply.status(201).send(presentRecord(record));
    },
  );

  app.get(
    '/api/v1/evidence/attachments/:id',
    {
      preHandler: viewer,
      config: {
        doc: {
          tag: 'Evidence',
          summary: 'Download an attachment (served as a file, never rendered)',
          params: idParamsSchema,
          responses: { 200: 'The file', 401: 'No or a bad token', 404: 'No such attachment' },
        } satisfies RouteDoc,
      },
    },
    async (request, reply) => {
      const { id } = parseOrThrow(idParamsSchema, request.params);
      const file = await services.evidence.attachment(id);
      // Served as a download in a sandbox: an uploaded HTML file must never run as this origin.
      return reply
        .header('content-type', file.content_type)
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', 'sandbox')
        .header('x-content-sha256', file.sha256)
        .send(file.content);
    },
  );
}

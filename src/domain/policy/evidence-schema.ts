/**
 * Policy sections for the runbook's evidence and release gate: weekly and monthly requirements, the gate's checks
 * and its override rules, and where GitHub is (for polling workflow runs and filing issues). A policy that leaves
 * a section out gets the runbook's defaults.
 */
import { z } from 'zod';
import { durationSchema, secretRefSchema, severitySchema } from './schema-parts.js';

const id = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]*$/,
    'expected a lowercase id (letters, digits, "-" and "_"), e.g. "access-review"',
  );

/** A requirement is met by a CI run (`workflow`), a weekly incident review (`review`) or a recorded note (`manual`). */
const requirementSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    id,
    title: z.string().min(1),
    kind: z.literal('workflow'),
    /** Workflow file name (e.g. "backup-restore-smoke.yml") or workflow name (e.g. "Test/Build"). */
    workflow: z.string().min(1),
  }),
  z.strictObject({ id, title: z.string().min(1), kind: z.literal('review') }),
  z.strictObject({ id, title: z.string().min(1), kind: z.literal('manual') }),
]);
export type EvidenceRequirement = z.output<typeof requirementSchema>;

export const evidenceSchema = z
  .strictObject({
    weekly: z.array(requirementSchema).default([]),
    monthly: z.array(requirementSchema).default([]),
    /** A requirement still missing this close to the end of its period is reported as "due soon". */
    due_soon: durationSchema.prefault('2d'),
  })
  .prefault({
    weekly: [
      { id: 'ci-test-build', title: 'CI green: Test/Build', kind: 'workflow', workflow: 'Test/Build' },
      {
        id: 'ci-real-db-parity',
        title: 'CI green: Real DB parity',
        kind: 'workflow',
        workflow: 'Real DB parity',
      },
      {
        id: 'backup-restore-smoke',
        title: 'Backup restore smoke run green (backup-restore-smoke.yml)',
        kind: 'workflow',
        workflow: 'backup-restore-smoke.yml',
      },
      {
        id: 'incident-review',
        title: 'Incident review log updated (even if "no incidents")',
        kind: 'review',
      },
    ],
    monthly: [
      {
        id: 'secret-rotation-audit',
        title: 'Secret rotation audit (JWT/cookie/encryption keys policy validation)',
        kind: 'manual',
      },
      { id: 'access-review', title: 'Access review (production server/database accounts)', kind: 'manual' },
      { id: 'dr-drill', title: 'DR drill note (restore objective and elapsed time)', kind: 'manual' },
    ],
  });
export type EvidencePolicy = z.output<typeof evidenceSchema>;

const gateCheckSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    id,
    title: z.string().min(1),
    /** The newest completed run of the workflow must be a success (and, with max_age, recent enough). */
    kind: z.literal('workflow_success'),
    workflow: z.string().min(1),
    max_age: durationSchema.optional(),
  }),
  z.strictObject({
    id,
    title: z.string().min(1),
    /** No incident of this severity may be unresolved (mitigated but open still blocks). */
    kind: z.literal('no_open_incidents'),
    severity: severitySchema,
  }),
]);
export type GateCheck = z.output<typeof gateCheckSchema>;

export const gateSchema = z
  .strictObject({
    checks: z.array(gateCheckSchema).default([]),
    override: z.strictObject({ max_duration: durationSchema.prefault('24h') }).prefault({}),
  })
  .prefault({
    checks: [
      {
        id: 'backup-restore-smoke',
        title: 'Latest weekly backup-restore smoke success',
        kind: 'workflow_success',
        workflow: 'backup-restore-smoke.yml',
        max_age: '7d',
      },
      {
        id: 'real-db-parity',
        title: 'Latest real DB parity success',
        kind: 'workflow_success',
        workflow: 'Real DB parity',
      },
      { id: 'no-open-sev1', title: 'No open Sev-1', kind: 'no_open_incidents', severity: 'sev1' },
    ],
  });
export type GatePolicy = z.output<typeof gateSchema>;

/** Where GitHub is: the REST API for polling workflow runs and filing issues (GitHub Enterprise: set api_url). */
export const githubSchema = z
  .strictObject({
    api_url: z.url().default('https://api.github.com'),
    /** owner/name of the repository whose workflows are evidence. */
    repo: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'expected "owner/name"')
      .optional(),
    branch: z.string().min(1).default('main'),
    token: secretRefSchema.prefault('${GITHUB_TOKEN}'),
  })
  .prefault({});
export type GitHubPolicy = z.output<typeof githubSchema>;

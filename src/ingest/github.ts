/**
 * GitHub Actions `workflow_run` webhooks (repository or organization webhook, content type application/json).
 *
 * What GitHub sends (docs.github.com/webhooks/webhook-events-and-payloads#workflow_run and #delivery-headers):
 *   X-GitHub-Event       the event name: "workflow_run" (also "ping" when the hook is created, and any other event
 *                        the hook was subscribed to)
 *   X-GitHub-Delivery    a GUID per delivery; a redelivery (from the UI or the API) keeps the same GUID
 *   X-Hub-Signature-256  "sha256=" + hex HMAC-SHA256(webhook secret, raw body)
 *   body                 { action: requested|in_progress|completed, workflow_run: {...}, workflow: {...}, repository }
 *
 * Authentication (docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries): the HMAC is computed
 * over the exact bytes received and compared in constant time, before anything is parsed.
 *
 * What Guardia does with it:
 *   - `ping` and every event other than `workflow_run` → accepted (202) and dropped: nothing stored, no alert, so
 *     subscribing the hook to "everything" is harmless.
 *   - `workflow_run` with an action other than `completed` → accepted and dropped (only finished runs matter).
 *   - A completed run of a workflow named in `workflows.record` or `workflows.alert_on_failure` → a
 *     WorkflowRunRecord (source "webhook"), upserted by the ingest service in the same transaction as the alert.
 *   - A completed run of a workflow in `workflows.alert_on_failure`:
 *       conclusion failure | timed_out | startup_failure → trigger
 *       conclusion success                              → resolve ("the next successful run resolves it")
 *       anything else (cancelled, skipped, neutral, …)  → no alert (a cancelled run proves nothing either way)
 *     dedup key `gh:{repository.full_name}:{workflow_run.path}:{head_branch}` (DESIGN.md §5), so one incident per
 *     workflow per branch and the default route "backup-smoke" (glob `gh:*backup-restore-smoke.yml*`) applies;
 *     severity null (the route decides); delivery key = X-GitHub-Delivery, so a redelivery is not counted twice.
 *   - A run of a workflow in neither list → accepted and ignored.
 *   - `deployment_protection_rule` (a GitHub App's custom deployment protection rule), action `requested` → a
 *     deployment review request (github-deployment.ts); the release gate's answer is POSTed to its callback URL.
 *
 * Workflow entries in the policy are either file names (`backup-restore-smoke.yml`, matched against the basename
 * of `workflow_run.path` / `workflow.path`; a full path also matches) or workflow display names (`Test/Build`,
 * matched case-insensitively against `workflow_run.name` / `workflow.name`).
 */
import { namesWorkflow, workflowFileName } from '../domain/evidence/workflows.js';
import crypto from 'node:crypto';
import { z } from 'zod';
import type { IntegrationPolicy } from '../domain/policy/schema.js';
import { GuardiaError, invalidInput } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import type { WorkflowRunRecord } from '../store/workflow-runs-repo.js';
import {
  clip,
  header,
  parseJsonBody,
  shortHash,
  type IngestAdapter,
  type ParsedDelivery,
} from './adapter.js';
import type { NormalizedAlert } from './alert.js';
import { parseDeploymentProtectionRule } from './github-deployment.js';

/** The schema defaults of `integration.workflows` (src/domain/policy/schema.ts), used when the policy omits it. */
export const DEFAULT_GITHUB_WORKFLOWS: { alert_on_failure: string[]; record: string[] } = {
  alert_on_failure: ['backup-restore-smoke.yml'],
  record: ['Test/Build', 'Real DB parity', 'backup-restore-smoke.yml'],
};

/** Conclusions of a watched workflow that page. */
const FAILING = new Set(['failure', 'timed_out', 'startup_failure']);

/** Longest dedup key stored as is; longer ones (absurd branch names) are cut and suffixed with a hash. */
const MAX_DEDUP_KEY = 255;

const SIGNATURE_HEADER = 'X-Hub-Signature-256';
const DELIVERY_HEADER = 'X-GitHub-Delivery';
const EVENT_HEADER = 'X-GitHub-Event';

const isoTime = z.iso.datetime({ offset: true });

/**
 * The fields Guardia relies on, as GitHub's payload schema lists them as required (nullable where GitHub says so).
 * Not strict: GitHub adds fields over time. Lengths are bounded where the value ends up in an indexed column
 * (repo, path, branch), so a hostile body is refused with 400 rather than failing in the database.
 */
const workflowRunEventSchema = z.object({
  action: z.string(),
  workflow_run: z.object({
    id: z.number().int().nonnegative(),
    name: z.string(),
    path: z.string().min(1).max(1024),
    status: z.string().max(64),
    conclusion: z.string().max(64).nullable(),
    head_branch: z.string().max(1024).nullable(),
    html_url: z.string().max(2048),
    run_started_at: isoTime.nullable().optional(),
    updated_at: isoTime,
    run_attempt: z.number().int().positive(),
    run_number: z.number().int().nonnegative().optional(),
    head_sha: z.string().max(64).nullable().optional(),
    event: z.string().max(64).nullable().optional(),
    display_title: z.string().optional(),
    actor: z.object({ login: z.string().optional() }).nullable().optional(),
  }),
  workflow: z.object({ name: z.string().optional(), path: z.string().optional() }).nullable().optional(),
  repository: z.object({ full_name: z.string().min(1).max(256) }),
});

type WorkflowRunEvent = z.output<typeof workflowRunEventSchema>;

/**
 * Checks `X-Hub-Signature-256` against HMAC-SHA256(secret, raw body). Throws `unauthenticated` saying which
 * header is missing, malformed or wrong; never echoes the secret or the expected value.
 */
export function verifyGitHubSignature(rawBody: Buffer, signature: string | undefined, secret: string): void {
  if (signature === undefined || signature === '') {
    throw new GuardiaError(
      'unauthenticated',
      `missing ${SIGNATURE_HEADER} header: set a secret on the GitHub webhook so deliveries are signed`,
    );
  }
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim());
  if (!match) {
    throw new GuardiaError(
      'unauthenticated',
      `malformed ${SIGNATURE_HEADER} header: expected "sha256=" followed by 64 hex digits`,
    );
  }
  const given = Buffer.from(match[1]!, 'hex');
  const expected = crypto.createHmac('sha256', secret).update(rawBody).digest();
  if (!crypto.timingSafeEqual(given, expected)) {
    throw new GuardiaError(
      'unauthenticated',
      `invalid ${SIGNATURE_HEADER} signature: the body or the webhook secret does not match`,
    );
  }
}

/** Does a policy entry (file name, full path, or display name) name this run's workflow? */
function names(entry: string, event: WorkflowRunEvent): boolean {
  return namesWorkflow(entry, {
    paths: [event.workflow_run.path, event.workflow?.path],
    names: [event.workflow_run.name, event.workflow?.name],
  });
}

function dedupKey(repo: string, path: string, branch: string | null): string {
  const key = `gh:${repo}:${path}:${branch ?? ''}`;
  // The branch comes last, so cutting keeps "gh:{repo}:{path}" (and the route glob on the file name) intact.
  return key.length <= MAX_DEDUP_KEY ? key : `${key.slice(0, MAX_DEDUP_KEY - 17)}~${shortHash(key)}`;
}

function toRecord(event: WorkflowRunEvent): WorkflowRunRecord {
  const run = event.workflow_run;
  return {
    repo: event.repository.full_name,
    run_id: String(run.id),
    run_attempt: run.run_attempt,
    run_number: run.run_number ?? null,
    workflow_path: run.path,
    workflow_name: run.name,
    head_branch: run.head_branch,
    head_sha: run.head_sha ?? null,
    event: run.event ?? null,
    status: run.status,
    conclusion: run.conclusion,
    html_url: run.html_url,
    run_started_at: run.run_started_at ?? null,
    completed_at: run.updated_at,
    source: 'webhook',
  };
}

function verb(conclusion: string): string {
  if (conclusion === 'timed_out') return 'timed out';
  if (conclusion === 'startup_failure') return 'failed to start';
  if (conclusion === 'success') return 'succeeded';
  return 'failed';
}

function toAlert(
  event: WorkflowRunEvent,
  conclusion: string,
  integration: IntegrationPolicy,
  deliveryKey: string,
  raw: string,
): NormalizedAlert {
  const run = event.workflow_run;
  const repo = event.repository.full_name;
  const branch = run.head_branch ?? '(no branch)';
  const isLink = /^https?:\/\//i.test(run.html_url);
  return {
    integration: integration.name,
    action: conclusion === 'success' ? 'resolve' : 'trigger',
    dedup_key: dedupKey(repo, run.path, run.head_branch),
    title: clip(`${workflowFileName(run.path)} ${verb(conclusion)} on ${branch} (${repo})`),
    severity: null,
    source: repo,
    details: {
      repo,
      workflow_name: run.name,
      workflow_path: run.path,
      run_id: String(run.id),
      run_number: run.run_number ?? null,
      run_attempt: run.run_attempt,
      head_branch: run.head_branch,
      head_sha: run.head_sha ?? null,
      event: run.event ?? null,
      conclusion,
      ...(run.display_title === undefined ? {} : { display_title: clip(run.display_title) }),
      ...(run.actor?.login === undefined ? {} : { actor: clip(run.actor.login, 256) }),
    },
    links: isLink
      ? [
          {
            href: run.html_url,
            text: `GitHub Actions run${run.run_number === undefined ? '' : ` #${run.run_number}`}`,
          },
        ]
      : [],
    occurred_at: new Date(run.updated_at),
    delivery_key: deliveryKey,
    raw,
  };
}

/** GitHub `workflow_run` webhook adapter (policy integration type `github`). */
export const githubAdapter: IngestAdapter = {
  type: 'github',
  description:
    'GitHub workflow_run webhooks (X-Hub-Signature-256): watched workflows recorded, failures page, success resolves',
  authenticate(request, secret) {
    verifyGitHubSignature(request.rawBody, header(request, SIGNATURE_HEADER), secret);
  },
  parse(request, integration): ParsedDelivery {
    const eventName = header(request, EVENT_HEADER);
    if (eventName === undefined || eventName === '') {
      throw invalidInput([
        {
          field: EVENT_HEADER,
          message: `missing ${EVENT_HEADER} header`,
          expected: 'a GitHub event name',
          received: 'nothing',
        },
      ]);
    }
    // A GitHub App's deployment protection rule: answered by the gate after the 202 (github-deployment.ts).
    if (eventName === 'deployment_protection_rule')
      return parseDeploymentProtectionRule(parseJsonBody(request), header(request, DELIVERY_HEADER));
    // ping (sent when the hook is created) and events Guardia does not use are accepted and dropped.
    if (eventName !== 'workflow_run') return { alerts: [] };

    const deliveryKey = header(request, DELIVERY_HEADER);
    if (deliveryKey === undefined || deliveryKey.trim() === '' || deliveryKey.length > 255) {
      throw invalidInput([
        {
          field: DELIVERY_HEADER,
          message: `${DELIVERY_HEADER} header is required for workflow_run (it makes redeliveries idempotent)`,
          expected: 'the delivery GUID GitHub sends (at most 255 characters)',
          received: deliveryKey === undefined ? 'nothing' : `${deliveryKey.length} characters`,
        },
      ]);
    }

    const body = parseJsonBody(request);
    // Only finished runs matter; the action is checked first so requested/in_progress bodies need no more fields.
    const { action } = parseOrThrow(z.object({ action: z.string() }), body);
    if (action !== 'completed') return { alerts: [] };

    const event = parseOrThrow(workflowRunEventSchema, body);
    const workflows = integration.workflows ?? DEFAULT_GITHUB_WORKFLOWS;
    const alerting = workflows.alert_on_failure.some((entry) => names(entry, event));
    const recording = alerting || workflows.record.some((entry) => names(entry, event));
    if (!recording) return { alerts: [] };

    const alerts: NormalizedAlert[] = [];
    const conclusion = event.workflow_run.conclusion;
    if (alerting && conclusion !== null && (FAILING.has(conclusion) || conclusion === 'success')) {
      alerts.push(
        toAlert(event, conclusion, integration, deliveryKey.trim(), request.rawBody.toString('utf8')),
      );
    }
    return { alerts, workflowRuns: [toRecord(event)] };
  },
};

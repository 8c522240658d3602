/**
 * The contract every inbound integration implements (one file per provider, registered in registry.ts).
 * An adapter authenticates over the raw request bytes *before* parsing, then turns the body into alerts.
 */
import crypto from 'node:crypto';
import type { IntegrationPolicy } from '../domain/policy/schema.js';
import { GuardiaError } from '../shared/errors.js';
import { scanJson, tooDeepMessage, wellFormed } from '../shared/json.js';
import type { WorkflowRunRecord } from '../store/workflow-runs-repo.js';
import type { NormalizedAlert } from './alert.js';

export interface InboundRequest {
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string | undefined>;
  rawBody: Buffer;
  receivedAt: Date;
}

/** What one inbound request carries: alerts (any number, e.g. Alertmanager groups) and evidence records. */
export interface ParsedDelivery {
  alerts: NormalizedAlert[];
  /** Completed CI runs to keep as evidence (GitHub workflow_run). */
  workflowRuns?: WorkflowRunRecord[];
  /**
   * Deployments waiting for the release gate's answer (GitHub deployment_protection_rule). Adapters only parse;
   * the hooks route asks the gate and posts the answer after the delivery is accepted.
   */
  deploymentReviews?: DeploymentReviewRequest[];
}

/** A GitHub deployment protection rule asking whether a deployment to an environment may proceed. */
export interface DeploymentReviewRequest {
  environment: string;
  /** Where the answer goes: POST {environment_name, state, comment} (GitHub's "review custom gates" endpoint). */
  callback_url: string;
  repo: string;
  sha: string | null;
  ref: string | null;
  /** The event that started the workflow run (push, workflow_dispatch, …). */
  event: string | null;
  deployment_id: number | null;
  installation_id: number | null;
  delivery_id: string | null;
}

export interface IngestAdapter {
  /** The integration `type` in the policy. */
  type: string;
  /** One line for docs and `guardia policy render`. */
  description: string;
  /** Throws `unauthenticated` unless the request proves knowledge of `secret`. Runs on raw bytes. */
  authenticate(request: InboundRequest, secret: string): void;
  /** Parses the (authenticated) body into alerts and records; throws `invalid_input` naming the problem. */
  parse(request: InboundRequest, integration: IntegrationPolicy): ParsedDelivery;
}

/** Digests of the expected values (the policy's few secrets), so each request hashes only what it sent. */
const expectedDigests = new Map<string, Buffer>();

/** Constant-time string comparison that does not leak the length of the expected value. */
export function safeEqual(given: string, expected: string): boolean {
  let b = expectedDigests.get(expected);
  if (!b) {
    b = crypto.createHash('sha256').update(expected).digest();
    if (expectedDigests.size >= 64) expectedDigests.clear(); // a policy has a handful; bound it all the same
    expectedDigests.set(expected, b);
  }
  const a = crypto.createHash('sha256').update(given).digest();
  return crypto.timingSafeEqual(a, b) && given.length === expected.length;
}

/** First value of a header (Node gives arrays for repeated headers). */
export function header(request: InboundRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Token authentication for senders without signatures: `Authorization: Bearer <token>` (any case), HTTP Basic
 * with the token as password (Alertmanager's basic_auth; the user name is ignored), or `?token=<token>` for
 * senders that can only be given a URL.
 */
export function authenticateBearer(request: InboundRequest, secret: string): void {
  const auth = header(request, 'authorization')?.trim();
  let given: string | undefined;
  if (auth && /^bearer\s/i.test(auth)) given = auth.slice(6).trim();
  else if (auth && /^basic\s/i.test(auth)) {
    const decoded = Buffer.from(auth.slice(5).trim(), 'base64').toString('utf8');
    given = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : undefined;
  } else given = request.query.token;
  if (given === undefined || given === '') {
    throw new GuardiaError(
      'unauthenticated',
      'missing token: send "Authorization: Bearer <token>" (or ?token=<token>)',
    );
  }
  if (!safeEqual(given, secret)) throw new GuardiaError('unauthenticated', 'invalid token');
}

/** Parses a JSON body, reporting where it broke. */
export function parseJsonBody(request: InboundRequest): unknown {
  if (request.rawBody.length === 0)
    throw new GuardiaError('invalid_json', 'request body is empty; expected JSON');
  const text = request.rawBody.toString('utf8');
  const scan = scanJson(text);
  if (scan.tooDeep) throw new GuardiaError('invalid_json', tooDeepMessage());
  try {
    const value: unknown = JSON.parse(text);
    return scan.surrogateEscape ? wellFormed(value) : value;
  } catch (err) {
    throw new GuardiaError('invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** A short stable hash, for dedup keys derived from content. */
export function shortHash(...parts: string[]): string {
  return crypto.createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

/** Shortens a provider's text to `max` characters (titles are capped; a long message must not be refused). */
export function clip(text: string, max = 1024): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

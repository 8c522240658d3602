/**
 * Answers GitHub deployment protection rules: asks the release gate (the decision is recorded with source
 * "github"), then POSTs `{environment_name, state: approved|rejected, comment}` to the delivery's
 * `deployment_callback_url`. Runs after the webhook was answered 202 (GitHub expects a quick answer), with bounded
 * retries on 5xx/429/rate limits and a 10 s timeout per attempt. The outcome — posted, or failed and why — is an
 * audit entry (`gate.deployment_review`), so an answer that never reached GitHub is visible.
 *
 * Authentication: GitHub accepts this callback only from the GitHub App that owns the protection rule, with an
 * App *installation* token (`ghs_…`, minted from the App's private key; valid one hour). Guardia sends
 * `policy.github.token` (default `${GITHUB_TOKEN}`) as that token: keep the variable filled with a fresh
 * installation token. The token is sent only to callback URLs on `policy.github.api_url`'s origin.
 */
import { formatGateComment } from '../domain/gate/format.js';
import { resolveSecret } from '../domain/policy/load.js';
import type { Policy } from '../domain/policy/schema.js';
import type { DeploymentReviewRequest } from '../ingest/adapter.js';
import type { AuditLog } from './audit.js';
import type { GateService, RecordedDecision } from './gate.js';

export interface DeploymentReviewOptions {
  fetch?: typeof fetch;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff; doubles each retry (default 1 s). */
  backoffMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Longest wait a Retry-After or rate-limit reset may ask for (default 60 s). */
  maxWaitMs?: number;
}

export interface DeploymentReviewOutcome {
  outcome: 'posted' | 'failed';
  state?: 'approved' | 'rejected';
  decision_id?: number;
  http_status?: number;
  attempts: number;
  error?: string;
}

interface Logger {
  error(obj: object, msg: string): void;
}

export class DeploymentReviewService {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly fetch: typeof fetch;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly gate: GateService,
    private readonly audit: AuditLog,
    private readonly policy: Policy,
    private readonly env: NodeJS.ProcessEnv,
    options: DeploymentReviewOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
  }

  /** Starts answering in the background and returns at once (the webhook gets its 202 meanwhile). */
  start(requests: DeploymentReviewRequest[], actor: string, log?: Logger): void {
    for (const request of requests) {
      const job = this.review(request, actor)
        .catch((err: unknown) => log?.error({ err }, 'deployment protection rule could not be answered'))
        .finally(() => this.pending.delete(job));
      this.pending.add(job);
    }
  }

  /** Waits for answers in flight (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Evaluates the gate for one deployment, posts the answer, and audits the outcome. */
  async review(request: DeploymentReviewRequest, actor: string): Promise<DeploymentReviewOutcome> {
    const decision = await this.gate.evaluate({
      source: 'github',
      actor,
      context: {
        environment: request.environment,
        repo: request.repo,
        sha: request.sha,
        ref: request.ref,
        event: request.event,
        deployment_id: request.deployment_id,
        delivery_id: request.delivery_id,
      },
    });
    const state = decision.result === 'blocked' ? 'rejected' : 'approved';
    const outcome = await this.post(request, decision, state);
    await this.audit.append({
      actor,
      action: 'gate.deployment_review',
      subject: `decision:${decision.decision_id}`,
      data: {
        environment: request.environment,
        repo: request.repo,
        callback_url: request.callback_url,
        ...outcome,
      },
    });
    return outcome;
  }

  private async post(
    request: DeploymentReviewRequest,
    decision: RecordedDecision,
    state: 'approved' | 'rejected',
  ): Promise<DeploymentReviewOutcome> {
    const base = { state, decision_id: decision.decision_id };
    const token = resolveSecret(this.policy.github.token, this.env);
    if (!token)
      return {
        ...base,
        outcome: 'failed',
        attempts: 0,
        error: `not posted: set ${this.policy.github.token.env} to the GitHub App's installation token`,
      };
    if (!sameOrigin(request.callback_url, this.policy.github.api_url))
      return {
        ...base,
        outcome: 'failed',
        attempts: 0,
        error: `not posted: the callback URL is not on github.api_url (${this.policy.github.api_url}); the token is sent only there`,
      };
    const body = JSON.stringify({
      environment_name: request.environment,
      state,
      comment: formatGateComment(decision),
    });
    let error: string;
    let status: number | undefined;
    for (let attempt = 1; ; attempt++) {
      let wait = this.backoffMs * 2 ** (attempt - 1);
      try {
        const res = await this.fetch(request.callback_url, {
          method: 'POST',
          headers: {
            accept: 'application/vnd.github+json',
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'user-agent': 'guardia',
            'x-github-api-version': '2022-11-28',
          },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await res.text().catch(() => '');
        status = res.status;
        if (res.ok) return { ...base, outcome: 'posted', http_status: status, attempts: attempt };
        error = `HTTP ${status}${githubMessage(text)}`;
        const limited = rateLimitWait(res, Date.now());
        if (res.status < 500 && res.status !== 429 && limited === undefined)
          return { ...base, outcome: 'failed', http_status: status, attempts: attempt, error };
        if (limited !== undefined) wait = Math.max(wait, limited);
      } catch (err) {
        status = undefined;
        error =
          err instanceof Error && err.name === 'TimeoutError'
            ? `timed out after ${this.timeoutMs} ms`
            : String((err as Error).cause ?? err);
      }
      if (attempt > this.retries)
        return {
          ...base,
          outcome: 'failed',
          ...(status === undefined ? {} : { http_status: status }),
          attempts: attempt,
          error: `gave up after ${attempt} attempts: ${error}`,
        };
      await new Promise((r) => setTimeout(r, Math.min(wait, this.maxWaitMs)));
    }
  }
}

function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/** GitHub error bodies are `{"message": …}`; keep a short piece of it for the audit entry. */
function githubMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    return typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
  } catch {
    return text ? `: ${text.slice(0, 200)}` : '';
  }
}

/**
 * How long GitHub asks us to wait: `Retry-After` (seconds), or on a primary rate limit (403/429 with
 * `x-ratelimit-remaining: 0`) until `x-ratelimit-reset`. Undefined when the response is not a rate limit.
 */
function rateLimitWait(res: Response, nowMs: number): number | undefined {
  const retryAfter = res.headers.get('retry-after');
  if (retryAfter && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter) * 1000;
  if (res.headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - nowMs);
    return 0;
  }
  return undefined;
}

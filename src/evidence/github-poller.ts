/**
 * The GitHub workflow-run poller: lists the completed runs of every workflow the policy names (evidence
 * requirements of kind `workflow` and the gate's `workflow_success` checks) through the REST API and stores each
 * one as the webhook would (source "api"). A webhook that GitHub never delivered, or that arrived while Guardia
 * was down, therefore leaves no hole in the ledger.
 *
 *   GET {api_url}/repos/{owner}/{repo}/actions/workflows/{file}/runs?branch=…&status=completed&per_page=100
 *
 * Entries that are file names (".yml"/".yaml", or a path) are polled directly; display names ("Test/Build") are
 * first resolved to files by listing the repository's workflows (`GET …/actions/workflows`) and applying the one
 * naming rule, `namesWorkflow`. Runs come newest first; paging stops at the first page that reaches back past
 * `since`.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { namesWorkflow, workflowFileName } from '../domain/evidence/workflows.js';
import type { Policy } from '../domain/policy/schema.js';
import { GuardiaError } from '../shared/errors.js';
import type { Database } from '../store/schema.js';
import { saveWorkflowRun, type WorkflowRunRecord } from '../store/workflow-runs-repo.js';
import { GitHubClient, RateLimitedError, type GitHubClientOptions, type GitHubPage } from './github-api.js';

export interface PollOptions extends GitHubClientOptions {
  /** https://api.github.com, or a GitHub Enterprise base such as https://ghe.example.com/api/v3. */
  apiUrl: string;
  /** owner/name */
  repo: string;
  branch: string;
  /** Policy workflow entries: file names, paths or display names. */
  workflows: string[];
  /** Runs that completed before this are neither paged through nor stored. */
  since: Date;
  /** The injected clock: stamps `recorded_at`. */
  now: () => Date;
}

export interface WorkflowPollResult {
  entry: string;
  /** The workflow files the entry resolved to (empty when it named nothing). */
  files: string[];
  problem?: string;
}

export interface PollResult {
  repo: string;
  branch: string;
  since: string;
  seen: number;
  new: number;
  updated: number;
  workflows: WorkflowPollResult[];
  /** Set when GitHub's rate limit stopped the collection before it finished. */
  rate_limited_until?: string;
  complete: boolean;
}

const isoTime = z.iso.datetime({ offset: true });
const runSchema = z.object({
  id: z.number().int().nonnegative(),
  name: z.string().nullable().optional(),
  path: z.string().min(1).max(1024),
  head_branch: z.string().max(1024).nullable(),
  head_sha: z.string().max(64).nullable().optional(),
  run_number: z.number().int().nonnegative().optional(),
  run_attempt: z.number().int().positive().optional(),
  event: z.string().max(64).nullable().optional(),
  status: z.string().max(64).nullable(),
  conclusion: z.string().max(64).nullable(),
  html_url: z.string().max(2048),
  created_at: isoTime,
  updated_at: isoTime,
  run_started_at: isoTime.nullable().optional(),
  repository: z.object({ full_name: z.string().min(1).max(256) }).optional(),
});
type GitHubRun = z.output<typeof runSchema>;
const runsPageSchema = z.object({ workflow_runs: z.array(runSchema) });
const workflowsPageSchema = z.object({
  workflows: z.array(z.object({ id: z.number(), name: z.string(), path: z.string() })),
});

/** The workflow entries the policy needs evidence for (requirements and gate checks), each once, in order. */
export function policyWorkflows(policy: Policy): string[] {
  const entries = [
    ...[...policy.evidence.weekly, ...policy.evidence.monthly].flatMap((r) =>
      r.kind === 'workflow' ? [r.workflow] : [],
    ),
    ...policy.gate.checks.flatMap((c) => (c.kind === 'workflow_success' ? [c.workflow] : [])),
  ];
  return [...new Set(entries)];
}

/** A policy entry that is a workflow file (name or path) rather than a display name. */
function isFileEntry(entry: string): boolean {
  return /\.ya?ml$/i.test(entry) || entry.includes('/.github/') || entry.startsWith('.github/');
}

/** Polls every workflow and stores its completed runs; returns what it saw. Stops early (not throws) when rate limited. */
export async function pollWorkflowRuns(db: Kysely<Database>, options: PollOptions): Promise<PollResult> {
  const client = new GitHubClient(options);
  const base = `${options.apiUrl.replace(/\/+$/, '')}/repos/${options.repo
    .split('/')
    .map(encodeURIComponent)
    .join('/')}/actions/workflows`;
  const result: PollResult = {
    repo: options.repo,
    branch: options.branch,
    since: options.since.toISOString(),
    seen: 0,
    new: 0,
    updated: 0,
    workflows: [],
    complete: true,
  };
  try {
    const listed = options.workflows.some((e) => !isFileEntry(e)) ? await listWorkflows(client, base) : [];
    for (const entry of options.workflows) {
      const files = isFileEntry(entry)
        ? [workflowFileName(entry)]
        : listed
            .filter((w) => namesWorkflow(entry, { paths: [w.path], names: [w.name] }))
            .map((w) => workflowFileName(w.path));
      result.workflows.push({
        entry,
        files,
        ...(files.length === 0 ? { problem: `no workflow named "${entry}" in ${options.repo}` } : {}),
      });
    }
    const files = [...new Set(result.workflows.flatMap((w) => w.files))];
    for (const file of files) {
      try {
        await pollFile(db, client, `${base}/${encodeURIComponent(file)}/runs`, options, result);
      } catch (err) {
        const status = (err as GuardiaError).details as { status?: number } | undefined;
        if (!(err instanceof GuardiaError) || err instanceof RateLimitedError || status?.status !== 404)
          throw err;
        // One missing workflow file must not hide the others' runs.
        for (const w of result.workflows)
          if (w.files.includes(file)) w.problem = `workflow file "${file}" not found in ${options.repo}`;
      }
    }
  } catch (err) {
    if (!(err instanceof RateLimitedError)) throw err;
    result.rate_limited_until = err.until;
    result.complete = false;
  }
  return result;
}

async function listWorkflows(client: GitHubClient, base: string): Promise<{ name: string; path: string }[]> {
  const all: { name: string; path: string }[] = [];
  for (let url: string | null = `${base}?per_page=100`; url !== null;) {
    const page: GitHubPage<unknown> = await client.get<unknown>(url);
    all.push(...parseBody(workflowsPageSchema, page.body, url).workflows);
    url = page.next;
  }
  return all;
}

async function pollFile(
  db: Kysely<Database>,
  client: GitHubClient,
  runsUrl: string,
  options: PollOptions,
  result: PollResult,
): Promise<void> {
  const query = new URLSearchParams({ branch: options.branch, status: 'completed', per_page: '100' });
  const since = options.since.getTime();
  let pages = 0;
  for (let url: string | null = `${runsUrl}?${query}`; url !== null;) {
    const page: GitHubPage<unknown> = await client.get<unknown>(url);
    const runs: GitHubRun[] = parseBody(runsPageSchema, page.body, url).workflow_runs;
    pages++;
    let reachedSince: boolean = runs.length === 0;
    for (const run of runs) {
      if (Date.parse(run.created_at) < since) reachedSince = true;
      if (run.status !== 'completed' || Date.parse(run.updated_at) < since) continue;
      result.seen++;
      const outcome = await saveWorkflowRun(db, toRecord(run, options.repo), options.now().toISOString());
      if (outcome === 'inserted') result.new++;
      if (outcome === 'updated') result.updated++;
    }
    options.progress?.(
      `${workflowFileName(runsUrl.replace(/\/runs$/, ''))}: page ${pages}, ${runs.length} runs`,
    );
    url = reachedSince ? null : page.next;
  }
}

function toRecord(run: GitHubRun, repo: string): WorkflowRunRecord {
  return {
    repo: run.repository?.full_name ?? repo,
    run_id: String(run.id),
    run_attempt: run.run_attempt ?? 1,
    run_number: run.run_number ?? null,
    workflow_path: run.path,
    workflow_name: run.name ?? workflowFileName(run.path),
    head_branch: run.head_branch,
    head_sha: run.head_sha ?? null,
    event: run.event ?? null,
    status: 'completed',
    conclusion: run.conclusion,
    html_url: run.html_url,
    run_started_at: run.run_started_at ? new Date(run.run_started_at).toISOString() : null,
    // A completed run's last update is its completion (the webhook adapter uses the same field).
    completed_at: new Date(run.updated_at).toISOString(),
    source: 'api',
  };
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown, url: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new GuardiaError(
    'upstream_error',
    `GitHub API answered ${url} with an unexpected body: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
  );
}

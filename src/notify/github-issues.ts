/**
 * GitHub Issues as an issue tracker for failing workflows (the runbook's "DB backup smoke failure → issue
 * tracker"). One open issue per failing workflow, keyed by the incident's dedup key and remembered in
 * `channel_refs`: the first failure opens an issue with the failing run's link; a failure while the issue is open
 * comments "failed again"; the resolving success comments and closes it. The base URL is the policy's
 * `github.api_url`, so GitHub Enterprise Server (`https://ghe.example.com/api/v3`) works the same.
 */
import { resolveSecret } from '../domain/policy/load.js';
import type {
  ChannelSender,
  DeliveryContext,
  DeliveryResult,
  MessageIncident,
  OutboundMessage,
} from './channel.js';
import { failure, httpCall, retryAfterMs, retryableStatus, shortBody, type HttpOutcome } from './http.js';
import { formatTime, oneLine, truncate } from './messages.js';

/** The key one issue belongs to: a failing workflow's dedup key, else the incident itself. */
export function issueKey(incident: MessageIncident): string {
  return incident.dedup_key ?? `incident:${incident.id}`;
}

/** A hidden marker in the issue body, so a lost ref can be found again among the open issues. */
function marker(key: string): string {
  return `<!-- guardia:dedup:${key.replaceAll('--', '- -')} -->`;
}

/** The failing run: the newest link to a workflow run, else the newest link at all. */
export function runLink(incident: MessageIncident): { href: string; text?: string } | undefined {
  const runs = incident.links.filter((l) => /\/actions\/runs\/\d+/.test(l.href));
  return runs[runs.length - 1] ?? incident.links[incident.links.length - 1];
}

/** Markdown-safe text for one line of an issue (no HTML, no accidental @mentions or #references). */
function md(text: string): string {
  return oneLine(text)
    .replace(/[\\`*_[\]<>|]/g, '\\$&')
    .replace(/@/g, '@\u200b')
    .replace(/#(\d)/g, '#\u200b$1');
}

function linkLine(label: string, link: { href: string; text?: string } | undefined): string {
  if (!link) return `${label}: (no run link in the alert)`;
  return `${label}: [${md(link.text ?? link.href)}](${encodeURI(decodeURISafe(link.href))})`;
}

function decodeURISafe(href: string): string {
  try {
    return decodeURI(href);
  } catch {
    return href;
  }
}

function issueTitle(message: OutboundMessage): string {
  return truncate(`[${message.incident.severity.toUpperCase()}] ${oneLine(message.incident.title)}`, 250);
}

function issueBody(message: OutboundMessage, key: string): string {
  const i = message.incident;
  return [
    `Guardia incident #${i.id} (${i.severity}) started ${formatTime(i.started_at)}.`,
    '',
    linkLine('Failing run', runLink(i)),
    `Incident: ${message.incident_url}`,
    '',
    'Guardia comments here when the workflow fails again and closes this issue when it succeeds.',
    '',
    marker(key),
  ].join('\n');
}

function commentBody(message: OutboundMessage): string {
  const i = message.incident;
  switch (message.kind) {
    case 'resolved':
      return `Resolved: the workflow succeeded again; Guardia incident #${i.id} is resolved. Closing.\n\nIncident: ${message.incident_url}`;
    case 'breach':
      return `SLA breached: the ${message.breach === 'mitigate' ? 'mitigation' : 'acknowledgement'} deadline of Guardia incident #${i.id} passed.\n\nIncident: ${message.incident_url}`;
    case 'reopened':
      return `Failed again after it was resolved: Guardia incident #${i.id} reopened.\n\n${linkLine('Failing run', runLink(i))}\nIncident: ${message.incident_url}`;
    default:
      return `Failed again (${i.alert_count} failure${i.alert_count === 1 ? '' : 's'} so far, Guardia incident #${i.id}).\n\n${linkLine('Failing run', runLink(i))}\nIncident: ${message.incident_url}`;
  }
}

interface GitHub {
  api: string;
  repo: string;
  token: string;
  timeoutMs: number;
}

function request(
  gh: GitHub,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  body?: unknown,
): Promise<HttpOutcome> {
  return httpCall({
    method,
    url: `${gh.api}/repos/${gh.repo}${path}`,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${gh.token}`,
      'x-github-api-version': '2022-11-28',
      'user-agent': 'guardia',
      ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    timeoutMs: gh.timeoutMs,
  });
}

/** GitHub's answer as a failed result: rate limits (403/429 with rate-limit headers) and 5xx are retryable. */
function githubFailure(what: string, outcome: HttpOutcome, gh: GitHub): DeliveryResult {
  if (outcome.kind === 'network') return failure(true, `GitHub ${what}: ${outcome.detail}`, [gh.token]);
  const h = outcome.headers;
  const rateLimited =
    outcome.status === 429 ||
    (outcome.status === 403 && (h.get('x-ratelimit-remaining') === '0' || h.get('retry-after') !== null));
  let reason = shortBody(outcome.text);
  try {
    const parsed = JSON.parse(outcome.text) as { message?: unknown };
    if (typeof parsed.message === 'string') reason = shortBody(parsed.message);
  } catch {
    // not JSON: keep the short text
  }
  const retryable = rateLimited || retryableStatus(outcome.status);
  const wait = retryable ? retryAfterMs(h) : undefined;
  const result = failure(
    retryable,
    `GitHub ${what} answered ${outcome.status}${rateLimited ? ' (rate limited)' : ''}${reason ? `: ${reason}` : ''}${wait !== undefined ? ` (retry after ${Math.ceil(wait / 1000)} s)` : ''}`,
    [gh.token],
    outcome.status,
  );
  return wait === undefined ? result : { ...result, retryAfterMs: wait };
}

const ok2xx = (o: HttpOutcome): boolean => o.kind === 'response' && o.status >= 200 && o.status < 300;
/** The issue no longer exists here (deleted or transferred). */
const gone = (o: HttpOutcome): boolean => o.kind === 'response' && (o.status === 404 || o.status === 410);
const statusOf = (o: HttpOutcome): number | undefined => (o.kind === 'response' ? o.status : undefined);

/** Finds an open issue carrying the key's marker (a ref lost after GitHub created the issue). Best effort. */
async function findByMarker(gh: GitHub, key: string, labels: string[]): Promise<number | undefined> {
  const query = new URLSearchParams({ state: 'open', per_page: '100', sort: 'created', direction: 'desc' });
  if (labels.length > 0) query.set('labels', labels.join(','));
  const outcome = await request(gh, 'GET', `/issues?${query.toString()}`);
  if (!ok2xx(outcome) || outcome.kind !== 'response') return undefined;
  try {
    const issues = JSON.parse(outcome.text) as { number?: unknown; body?: unknown; pull_request?: unknown }[];
    const found = issues.find(
      (i) =>
        !i.pull_request &&
        typeof i.body === 'string' &&
        i.body.includes(marker(key)) &&
        typeof i.number === 'number',
    );
    return found ? (found.number as number) : undefined;
  } catch {
    return undefined;
  }
}

async function comment(gh: GitHub, issue: string, body: string): Promise<HttpOutcome> {
  return request(gh, 'POST', `/issues/${issue}/comments`, { body });
}

export const githubIssuesSender: ChannelSender<'github-issues'> = {
  type: 'github-issues',
  async send(message, channel, ctx: DeliveryContext): Promise<DeliveryResult> {
    const repo = channel.repo ?? ctx.policy.github.repo;
    if (!repo)
      return failure(
        false,
        `GitHub Issues channel "${ctx.channelName}" has no repository: set "repo" on the channel or github.repo in the policy`,
        [],
      );
    const token = resolveSecret(ctx.policy.github.token, ctx.env);
    if (!token)
      return failure(
        false,
        `GitHub Issues channel "${ctx.channelName}" is not configured: set ${ctx.policy.github.token.env} (a token with Issues write) on the Guardia server`,
        [],
      );
    const gh: GitHub = {
      api: ctx.policy.github.api_url.replace(/\/+$/, ''),
      repo,
      token,
      timeoutMs: ctx.timeoutMs,
    };
    const key = issueKey(message.incident);
    const existing = (await ctx.refs.get(ctx.channelName, key)) || undefined;

    if (message.kind === 'resolved') {
      if (!existing)
        return {
          ok: true,
          retryable: false,
          detail: `no open GitHub issue for ${key} in ${repo}; nothing to close`,
        };
      const commented = await comment(gh, existing, commentBody(message));
      if (!ok2xx(commented) && !gone(commented))
        return githubFailure(`comment on ${repo}#${existing}`, commented, gh);
      const closed = await request(gh, 'PATCH', `/issues/${existing}`, {
        state: 'closed',
        state_reason: 'completed',
      });
      if (!ok2xx(closed) && !gone(closed)) return githubFailure(`close ${repo}#${existing}`, closed, gh);
      await ctx.refs.delete(ctx.channelName, key);
      return {
        ok: true,
        retryable: false,
        status: statusOf(closed),
        detail: `closed GitHub issue ${repo}#${existing}`,
      };
    }

    if (message.kind === 'page')
      return { ok: true, retryable: false, detail: 'GitHub Issues does not page people; nothing sent' };

    if (existing) {
      const commented = await comment(gh, existing, commentBody(message));
      if (ok2xx(commented))
        return {
          ok: true,
          retryable: false,
          status: statusOf(commented),
          detail: `commented on GitHub issue ${repo}#${existing}`,
        };
      // The issue was deleted or transferred: forget it and open a new one below.
      if (!gone(commented)) return githubFailure(`comment on ${repo}#${existing}`, commented, gh);
      await ctx.refs.delete(ctx.channelName, key);
    }

    // A create whose answer was lost (timeout) must not open a second issue on the retry: look for the marker.
    const found = await findByMarker(gh, key, channel.labels);
    if (found !== undefined) {
      await ctx.refs.set(ctx.channelName, key, String(found));
      const commented = await comment(gh, String(found), commentBody(message));
      if (!ok2xx(commented)) return githubFailure(`comment on ${repo}#${found}`, commented, gh);
      return {
        ok: true,
        retryable: false,
        status: statusOf(commented),
        detail: `commented on GitHub issue ${repo}#${found}`,
      };
    }

    const created = await request(gh, 'POST', '/issues', {
      title: issueTitle(message),
      body: issueBody(message, key),
      labels: channel.labels,
    });
    if (!ok2xx(created) || created.kind !== 'response')
      return githubFailure(`create issue in ${repo}`, created, gh);
    let issue: { number?: unknown; html_url?: unknown };
    try {
      issue = JSON.parse(created.text) as typeof issue;
    } catch {
      issue = {};
    }
    if (typeof issue.number !== 'number')
      return failure(
        true,
        `GitHub created an issue in ${repo} but its answer had no issue number`,
        [token],
        created.status,
      );
    await ctx.refs.set(ctx.channelName, key, String(issue.number));
    return {
      ok: true,
      retryable: false,
      status: created.status,
      detail: `opened GitHub issue ${repo}#${issue.number}${typeof issue.html_url === 'string' ? ` ${shortBody(issue.html_url)}` : ''}`,
    };
  },
};

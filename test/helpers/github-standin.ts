/**
 * A local GitHub stand-in for the Issues API, on the HTTP sink: create an issue, comment on it, close it, list
 * open issues. It keeps issues in memory and answers like api.github.com (201 with `number` and `html_url`),
 * so the GitHub Issues channel is tested against real HTTP, never a mock of the client.
 */
import { startHttpSink, type HttpSink, type SinkRequest } from './sinks.js';

export interface StandInIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  comments: string[];
}

export interface GitHubStandIn {
  /** Base URL to put in policy.github.api_url. */
  url: string;
  sink: HttpSink;
  issues: StandInIssue[];
  /** Set to answer every request with this instead (rate limits, outages). */
  failWith?: { status: number; body?: string; headers?: Record<string, string> };
  close(): Promise<void>;
}

export async function startGitHubStandIn(
  repo = 'acme/app',
  token = 'ghp_test_token_0123456789',
): Promise<GitHubStandIn> {
  const sink = await startHttpSink();
  const standIn: GitHubStandIn = { url: sink.url, sink, issues: [], close: () => sink.close() };
  const json = (status: number, body: unknown) => ({
    status,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
  const present = (i: StandInIssue) => ({
    id: 1000 + i.number,
    number: i.number,
    state: i.state,
    title: i.title,
    body: i.body,
    labels: i.labels.map((name) => ({ name })),
    html_url: `https://github.example/${repo}/issues/${i.number}`,
    url: `${sink.url}/repos/${repo}/issues/${i.number}`,
  });
  sink.respond = (req: SinkRequest) => {
    if (standIn.failWith) return standIn.failWith;
    if (req.headers.authorization !== `Bearer ${token}`) return json(401, { message: 'Bad credentials' });
    const url = new URL(req.url, sink.url);
    const base = `/repos/${repo}/issues`;
    if (req.method === 'GET' && url.pathname === base) {
      const state = url.searchParams.get('state') ?? 'open';
      return json(200, standIn.issues.filter((i) => state === 'all' || i.state === state).map(present));
    }
    if (req.method === 'POST' && url.pathname === base) {
      const body = JSON.parse(req.body) as { title?: string; body?: string; labels?: string[] };
      if (!body.title) return json(422, { message: 'Validation Failed' });
      const issue: StandInIssue = {
        number: standIn.issues.length + 1,
        title: body.title,
        body: body.body ?? '',
        labels: body.labels ?? [],
        state: 'open',
        comments: [],
      };
      standIn.issues.push(issue);
      return json(201, present(issue));
    }
    const match = new RegExp(`^${base}/(\\d+)(/comments)?$`).exec(url.pathname);
    const issue = match ? standIn.issues.find((i) => i.number === Number(match[1])) : undefined;
    if (!match || !issue) return json(404, { message: 'Not Found' });
    if (req.method === 'POST' && match[2]) {
      issue.comments.push((JSON.parse(req.body) as { body: string }).body);
      return json(201, { id: issue.comments.length, body: issue.comments.at(-1) });
    }
    if (req.method === 'PATCH' && !match[2]) {
      const body = JSON.parse(req.body) as { state?: 'open' | 'closed' };
      if (body.state) issue.state = body.state;
      return json(200, present(issue));
    }
    return json(404, { message: 'Not Found' });
  };
  return standIn;
}

/**
 * `guardia gate [--json|--markdown] [--server URL --token T]`, `guardia gate override|overrides|revoke`.
 *
 * Exit codes (DESIGN.md §4): 0 the gate passes (or a valid override lets it through), 1 blocked, 2 the gate could
 * not be evaluated (server unreachable, token refused, store unavailable — the message says which).
 *
 * With `--server` (or GUARDIA_SERVER) the gate is asked over HTTP, the way a CI runner asks it. That path must
 * start fast (bench/gate.ts), so this module's static imports are only the dependency-free formatter and output
 * helpers; the store, the policy loader and zod are imported (dynamically) by the local path alone, and the
 * request uses node:http rather than fetch (see `get`).
 */
import type { Command } from 'commander';
import { formatGateMarkdown, formatGateText, type GateDecisionView } from '../domain/gate/format.js';
import { printJson } from './output.js';

interface GateOptions {
  json: boolean;
  markdown: boolean;
  server?: string;
  token?: string;
  timeout: string;
  as?: string;
  database?: string;
  policy?: string;
}

/** The gate could not be evaluated: exit 2 with this message. */
class CannotEvaluate extends Error {}

export function registerGateCommands(program: Command): void {
  // `gate` has options and subcommands with the same option names (--json, --as): with positional options (on
  // the program too, which has none of its own) `gate overrides --json` reaches `overrides`, not `gate`.
  program.enablePositionalOptions();
  const gate = program
    .command('gate')
    .description('ask the release gate: exit 0 pass (or overridden), 1 blocked, 2 cannot evaluate')
    .enablePositionalOptions()
    .option('--json', 'print the decision as JSON', false)
    .option('--markdown', 'print a Markdown table (for $GITHUB_STEP_SUMMARY)', false)
    .option('--server <url>', 'ask a Guardia server instead of the local store (default: $GUARDIA_SERVER)')
    .option('--token <token>', 'API token for --server, role viewer or above (default: $GUARDIA_TOKEN)')
    .option('--timeout <seconds>', 'give up on --server after this many seconds', '10')
    .option('--as <actor>', 'who asks, recorded with the decision (local store only; default: cli:$USER)')
    .option('--database <url>', 'database URL (default: $GUARDIA_DATABASE_URL or sqlite:./data/guardia.db)')
    .option(
      '--policy <file>',
      'policy file (default: $GUARDIA_POLICY, ./guardia.yaml, or the built-in runbook)',
    )
    .action(async (options: GateOptions) => {
      process.exitCode = await runGate(options);
    });

  gate
    .command('override')
    .description('let a blocked release through for a while (a second person approves; at most 24 h)')
    .requiredOption('--reason <text>', 'why the release cannot wait')
    .requiredOption('--approver <name>', 'the second person who approves (not you)')
    .requiredOption('--expires <when>', 'a duration from now ("4h") or an ISO-8601 time')
    .option('--as <actor>', 'who requests it (default: cli:$USER)')
    .option('--json', 'print as JSON', false)
    .option('--database <url>', 'database URL')
    .option('--policy <file>', 'policy file')
    .action(
      async (
        options: LocalOptions & {
          reason: string;
          approver: string;
          expires: string;
          as?: string;
          json: boolean;
        },
      ) => {
        const { withServices, cliActor } = await import('./context.js');
        const { parseExpiry } = await import('../domain/gate/override.js');
        await withServices(options, async (s) => {
          const o = await s.gate.createOverride({
            reason: options.reason,
            approved_by: options.approver,
            requested_by: cliActor(options.as),
            expires_at: parseExpiry(options.expires, s.clock.now(), '--expires'),
          });
          if (options.json) return printJson({ ...o, state: 'active' });
          process.stdout.write(
            `Override #${o.id} is active until ${o.expires_at}: requested by ${o.requested_by}, approved by ${o.approved_by}.\n` +
              `  reason: ${o.reason}\n  (recorded in the audit log; end it early with: guardia gate revoke ${o.id})\n`,
          );
        });
      },
    );

  gate
    .command('overrides')
    .description('list gate overrides, newest first')
    .option('--active', 'only those in force now', false)
    .option('--json', 'print as JSON', false)
    .option('--database <url>', 'database URL')
    .option('--policy <file>', 'policy file')
    .action(async (options: LocalOptions & { active: boolean; json: boolean }) => {
      const { withServices } = await import('./context.js');
      const { overrideState } = await import('../domain/gate/override.js');
      await withServices(options, async (s) => {
        const now = s.clock.now();
        const list = (await s.gate.listOverrides({ status: options.active ? 'active' : 'all' })).map((o) => ({
          ...o,
          state: overrideState(o, now),
        }));
        if (options.json) return printJson({ overrides: list });
        if (list.length === 0) return void process.stdout.write('No gate overrides.\n');
        for (const o of list)
          process.stdout.write(
            `#${o.id}  ${o.state.padEnd(7)}  until ${o.expires_at}  by ${o.requested_by}, approved by ${o.approved_by}` +
              `${o.revoked_by ? `, revoked by ${o.revoked_by}` : ''}\n      ${o.reason}\n`,
          );
      });
    });

  gate
    .command('revoke')
    .description('end an override before it expires')
    .argument('<id>')
    .option('--as <actor>', 'who revokes (default: cli:$USER)')
    .option('--json', 'print as JSON', false)
    .option('--database <url>', 'database URL')
    .option('--policy <file>', 'policy file')
    .action(async (id: string, options: LocalOptions & { as?: string; json: boolean }) => {
      const { withServices, cliActor } = await import('./context.js');
      const { GuardiaError } = await import('../shared/errors.js');
      if (!/^[1-9]\d*$/.test(id))
        throw new GuardiaError('invalid_input', `expected a positive override id, got "${id}"`);
      await withServices(options, async (s) => {
        const o = await s.gate.revokeOverride(Number(id), cliActor(options.as));
        if (options.json) return printJson({ ...o, state: 'revoked' });
        process.stdout.write(`Override #${o.id} revoked by ${o.revoked_by} at ${o.revoked_at}.\n`);
      });
    });
}

interface LocalOptions {
  database?: string;
  policy?: string;
}

/** Asks the gate (server or local store), prints the decision, and returns the exit code. */
async function runGate(options: GateOptions): Promise<number> {
  if (options.json && options.markdown) {
    process.stderr.write('guardia: choose one of --json and --markdown\n');
    return 2;
  }
  const server = options.server ?? process.env.GUARDIA_SERVER;
  let decision: GateDecisionView;
  try {
    decision = server
      ? await askServer(server, options.token ?? process.env.GUARDIA_TOKEN, Number(options.timeout))
      : await askLocal(options);
  } catch (err) {
    const message = err instanceof CannotEvaluate ? err.message : `${(err as Error).message ?? String(err)}`;
    process.stderr.write(`guardia: cannot evaluate the release gate: ${message}\n`);
    if (options.markdown)
      process.stdout.write(`### ⚠️ Release gate: cannot evaluate\n\n${message.replace(/\|/g, '\\|')}\n\n`);
    return 2;
  }
  const base = server?.replace(/\/+$/, '');
  if (options.json) printJson(decision);
  else if (options.markdown) process.stdout.write(formatGateMarkdown(decision, base));
  else process.stdout.write(formatGateText(decision, base));
  return decision.result === 'blocked' ? 1 : 0;
}

/** GET {server}/api/v1/gate. Every way it can fail becomes a CannotEvaluate naming the cause. */
async function askServer(
  server: string,
  token: string | undefined,
  timeoutSec: number,
): Promise<GateDecisionView> {
  // Relative to the server URL, so a Guardia behind a path prefix (https://ops.example.com/guardia/) works.
  const url = URL.canParse('api/v1/gate', server.replace(/\/*$/, '/'))
    ? new URL('api/v1/gate', server.replace(/\/*$/, '/'))
    : undefined;
  if (!url || !/^https?:$/.test(url.protocol))
    throw new CannotEvaluate(
      `--server must be an http(s) URL like https://guardia.example.com, got "${server}"`,
    );
  if (!token)
    throw new CannotEvaluate('no API token: pass --token or set GUARDIA_TOKEN (role viewer or above)');
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0)
    throw new CannotEvaluate(`--timeout must be a positive number of seconds, got "${timeoutSec}"`);
  let res: { status: number; text: string };
  try {
    res = await get(
      url,
      { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'guardia-cli' },
      timeoutSec * 1000,
    );
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.name === 'TimeoutError')
      throw new CannotEvaluate(`the Guardia server at ${url.origin} did not answer within ${timeoutSec} s`);
    throw new CannotEvaluate(`cannot reach the Guardia server at ${url.origin} (${e.code ?? e.message})`);
  }
  const text = res.text;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CannotEvaluate(
      `the server at ${url.origin} answered HTTP ${res.status} with a body that is not JSON`,
    );
  }
  if (res.status < 200 || res.status > 299) {
    const error = (body as { error?: { code?: string; message?: string } }).error;
    const detail = error ? `${error.code}: ${error.message}` : text.slice(0, 200);
    if (res.status === 401) throw new CannotEvaluate(`the server refused the token (HTTP 401 ${detail})`);
    if (res.status === 403) throw new CannotEvaluate(`the token may not ask the gate (HTTP 403 ${detail})`);
    throw new CannotEvaluate(`the server could not evaluate the gate (HTTP ${res.status} ${detail})`);
  }
  const d = body as Partial<GateDecisionView>;
  if (!d || !['pass', 'blocked', 'overridden'].includes(d.result as string) || !Array.isArray(d.checks))
    throw new CannotEvaluate(`the server at ${url.origin} answered something that is not a gate decision`);
  return d as GateDecisionView;
}

/** Evaluates against the local store, recording the decision with source "cli". */
async function askLocal(options: GateOptions): Promise<GateDecisionView> {
  const { withServices, cliActor } = await import('./context.js');
  try {
    return await withServices(options, (s) =>
      s.gate.evaluate({ source: 'cli', actor: cliActor(options.as), context: {} }),
    );
  } catch (err) {
    const { GuardiaError } = await import('../shared/errors.js');
    if (err instanceof GuardiaError) throw new CannotEvaluate(err.message);
    throw new CannotEvaluate(`the store is unavailable: ${(err as Error).message ?? String(err)}`);
  }
}

/**
 * One GET with node:http(s), not global fetch: measured in bench/gate.ts, loading fetch (undici, its WebAssembly
 * parser and web streams) costs a CI job more CPU than the rest of this command together. https (and TLS) is
 * loaded only for https URLs. No redirects are followed: a redirect is an answer that is not a gate decision.
 */
async function get(
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      const err = new Error(`no answer within ${timeoutMs} ms`);
      err.name = 'TimeoutError';
      req.destroy(err);
    }, timeoutMs);
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}

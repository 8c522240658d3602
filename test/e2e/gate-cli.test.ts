/**
 * End-to-end release gate from a CI runner's point of view: `guardia gate --server URL --token T` as a real
 * process against a running server exits 0 / 1 as the evidence dictates (runs arrive as signed GitHub
 * workflow_run webhooks; the sev1 is declared from the CLI), 2 with a message when the server is unreachable or
 * the token is refused. Also: overrides from the CLI, and `guardia audit verify` naming an edited entry.
 */
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAllGuardia, ROOT, runGuardia, spawnGuardia, type CliRun } from '../helpers/cli.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/integrations/github-workflow-run-completed.json');
const WEBHOOK_SECRET = 'e2e-gate-webhook-secret';
const TEST_TIMEOUT_MS = 180_000;

type Run = CliRun;
interface Decision {
  result: string;
  checks: { id: string; status: string; reason: string; link?: string }[];
  override?: { id: number };
}

let cwd: string;
let db: string;

function guardia(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runGuardia(args, { cwd, env: gateEnv({ GUARDIA_DATABASE_URL: db, ...env }) });
}

/** Guardia and GitHub settings of the test process are dropped: the gate must see only this test's. */
function gateEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return cleanEnv({ USER: 'e2e-gate', ...extra }, (k) => k.startsWith('GITHUB_'));
}

describe('guardia gate against a running server', () => {
  let server: ChildProcess;
  let baseUrl: string;
  let token: string;

  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-e2e-gate-'));
    db = `sqlite:${path.join(cwd, 'g.db')}`;
    const created = await guardia(['tokens', 'create', '--role', 'viewer', '--name', 'ci', '--json']);
    expect(created.code, created.stderr).toBe(0);
    token = (JSON.parse(created.stdout) as { token: string }).token;

    server = spawnGuardia(['serve'], {
      cwd,
      env: gateEnv({
        GUARDIA_DATABASE_URL: db,
        GUARDIA_DATA_DIR: cwd,
        GUARDIA_PORT: '0',
        GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let banner = '';
    baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server not ready:\n${banner}`)), 30_000);
      server.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        banner += chunk;
        const match = /Guardia is serving on (http:\/\/\S+:\d+)/.exec(banner);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code}):\n${banner}`)));
    });
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    killAllGuardia();
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  const gate = (...extra: string[]) => guardia(['gate', '--server', baseUrl, '--token', token, ...extra]);

  /** A successful run of a workflow, delivered the way GitHub delivers it. */
  async function deliverSuccess(name: string, file: string, id: number): Promise<void> {
    const body = structuredClone(
      (
        JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as {
          request: { body: Record<string, Record<string, unknown>> };
        }
      ).request.body,
    );
    Object.assign(body.workflow_run!, {
      id,
      name,
      path: `.github/workflows/${file}`,
      head_branch: 'main',
      conclusion: 'success',
      updated_at: new Date(Date.now() - 60 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    Object.assign(body.workflow!, { name, path: `.github/workflows/${file}` });
    const raw = JSON.stringify(body);
    const res = await fetch(`${baseUrl}/hooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'workflow_run',
        'x-github-delivery': crypto.randomUUID(),
        'x-hub-signature-256':
          'sha256=' + crypto.createHmac('sha256', WEBHOOK_SECRET).update(raw).digest('hex'),
      },
      body: raw,
    });
    expect(res.status, await res.text()).toBe(202);
  }

  it(
    'exits 1 while blocked (no evidence yet), printing the decision as JSON',
    async () => {
      const run = await gate('--json');
      expect(run.code, run.stderr).toBe(1);
      const decision = JSON.parse(run.stdout) as Decision;
      expect(decision.result).toBe('blocked');
      expect(decision.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([
        'backup-restore-smoke',
        'real-db-parity',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a CLI override needs another approver and at most 24 h; while active the server says overridden (exit 0)',
    async () => {
      const self = await guardia([
        'gate',
        'override',
        '--reason',
        'hotfix',
        '--approver',
        'E2E-Gate',
        '--expires',
        '2h',
      ]);
      expect(self.code).toBe(2);
      expect(self.stderr).toContain('the approver must be someone other than the requester (cli:e2e-gate)');
      const tooLong = await guardia([
        'gate',
        'override',
        '--reason',
        'hotfix',
        '--approver',
        'bob',
        '--expires',
        '25h',
      ]);
      expect(tooLong.code).toBe(2);
      expect(tooLong.stderr).toContain('at most 24h');

      const ok = await guardia([
        'gate',
        'override',
        '--reason',
        'hotfix',
        '--approver',
        'bob',
        '--expires',
        '2h',
        '--json',
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      const override = JSON.parse(ok.stdout) as { id: number; requested_by: string };
      expect(override.requested_by).toBe('cli:e2e-gate');
      const overridden = await gate('--json');
      expect(overridden.code).toBe(0);
      expect(JSON.parse(overridden.stdout)).toMatchObject({
        result: 'overridden',
        override: { id: override.id },
      });
      const listed = await guardia(['gate', 'overrides', '--json']);
      expect(JSON.parse(listed.stdout)).toMatchObject({ overrides: [{ id: override.id, state: 'active' }] });

      const revoked = await guardia(['gate', 'revoke', String(override.id)]);
      expect(revoked.code, revoked.stderr).toBe(0);
      const [again, local] = await Promise.all([gate('--json'), guardia(['gate', '--json'])]);
      expect(again.code).toBe(1);
      // The local store gives the same answer as the server.
      expect(local.code).toBe(1);
      expect((JSON.parse(local.stdout) as Decision).result).toBe('blocked');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 0 once GitHub reported green smoke and parity runs; --markdown prints the table',
    async () => {
      await deliverSuccess('Backup restore smoke', 'backup-restore-smoke.yml', 7001);
      await deliverSuccess('Real DB parity', 'real-db-parity.yml', 7002);
      const [json, markdown] = await Promise.all([gate('--json'), gate('--markdown')]);
      expect(json.code, json.stderr).toBe(0);
      expect((JSON.parse(json.stdout) as Decision).result).toBe('pass');
      expect(markdown.code).toBe(0);
      expect(markdown.stdout).toContain('### ✅ Release gate: pass');
      expect(markdown.stdout).toMatch(
        /\| ✅ \| Latest real DB parity success \| newest run #\d+ succeeded 1 hour ago/,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 2 when the server is unreachable, when the token is refused, and without a token',
    async () => {
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));

      const [unreachable, badToken, noToken, markdown] = await Promise.all([
        guardia(['gate', '--server', `http://127.0.0.1:${port}`, '--token', token, '--json']),
        guardia(['gate', '--server', baseUrl, '--token', 'gdn_not-a-token', '--json']),
        guardia(['gate', '--server', baseUrl]),
        guardia(['gate', '--server', `http://127.0.0.1:${port}`, '--token', token, '--markdown']),
      ]);
      expect(unreachable.code).toBe(2);
      expect(unreachable.stdout).toBe('');
      expect(unreachable.stderr).toContain(
        `cannot reach the Guardia server at http://127.0.0.1:${port} (ECONNREFUSED)`,
      );
      expect(badToken.code).toBe(2);
      expect(badToken.stderr).toContain('the server refused the token (HTTP 401');
      expect(noToken.code).toBe(2);
      expect(noToken.stderr).toContain('GUARDIA_TOKEN');
      expect(markdown.code).toBe(2);
      expect(markdown.stdout).toContain('Release gate: cannot evaluate');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'every decision and override is in the audit log; `audit verify` exits 1 naming an edited entry',
    async () => {
      const intact = await guardia(['audit', 'verify', '--json']);
      expect(intact.code, intact.stderr).toBe(0);
      expect(JSON.parse(intact.stdout)).toMatchObject({ ok: true, problems: [] });

      const file = db.slice('sqlite:'.length);
      const sqlite = new BetterSqlite3(file);
      const row = sqlite
        .prepare("select id from audit_log where action = 'gate.override' order by id limit 1")
        .get() as { id: number };
      sqlite.prepare('update audit_log set data = \'{"reason":"nothing to see"}\' where id = ?').run(row.id);
      sqlite.close();

      const broken = await guardia(['audit', 'verify']);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toContain(`entry ${row.id}: entry ${row.id} (gate.override override:`);
      expect(broken.stdout).toContain('was edited');
    },
    TEST_TIMEOUT_MS,
  );
  it(
    'exits 1 with a sev1 open, and the people output names it with a link',
    async () => {
      const declared = await guardia([
        'incidents',
        'declare',
        '--title',
        'Checkout down',
        '--severity',
        'sev1',
        '--json',
      ]);
      expect(declared.code, declared.stderr).toBe(0);
      const id = (JSON.parse(declared.stdout) as { id: number }).id;

      const blocked = await guardia(['gate'], { GUARDIA_SERVER: baseUrl, GUARDIA_TOKEN: token });
      expect(blocked.code, blocked.stderr).toBe(1);
      expect(blocked.stdout).toContain(
        `✗ No open Sev-1: 1 open sev1 incident: #${id} "Checkout down" (triggered)`,
      );
      expect(blocked.stdout).toContain(`${baseUrl}/api/v1/incidents/${id}`);
      expect(blocked.stdout).toContain('✓ Latest weekly backup-restore smoke success');
    },
    TEST_TIMEOUT_MS,
  );
});

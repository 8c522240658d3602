/**
 * End-to-end `guardia diagnose …` / `guardia verify …` as a person runs them (a child process in a temp dir):
 * with no targets every check skips and says why (exit 0); bad flags and an invalid policy exit 2; an unset
 * `${ENV}` secret makes its checks skip naming the variable; a failing check exits 1 without printing any secret;
 * `--incident` records the run on the incident's timeline (local store and `--server`); `incidents rca`.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';
import type { PlaybookReportJson } from '../../src/playbooks/check.js';
import { cleanEnv, killAllGuardia, runGuardia, spawnGuardia, type CliRun } from '../helpers/cli.js';

const TEST_TIMEOUT_MS = 180_000;
const DB_PASSWORD = 'e2e-db-password-5f3a9c';
const JWT_SECRET = 'e2e-jwt-secret-value-0123456789abcdef0123';

let cwd: string;
let db: string;

/** Variables that would give the playbooks targets or a tenant are dropped: the CLI sees only what a test gives. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ USER: 'e2e-diagnose', GUARDIA_DATABASE_URL: db, ...extra }, (k) =>
    /^(APP_|SENTRY_|TENANT_ID$|NO_COLOR$|FORCE_COLOR$)/.test(k),
  );
}

function guardia(args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
  return runGuardia(args, { cwd, env: env(extra) });
}

function report(run: CliRun): PlaybookReportJson {
  return JSON.parse(run.stdout) as PlaybookReportJson;
}

beforeAll(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-e2e-diagnose-'));
  db = `sqlite:${path.join(cwd, 'g.db')}`;
});

afterAll(() => {
  killAllGuardia();
  fs.rmSync(cwd, { recursive: true, force: true });
});

describe('guardia diagnose / verify', () => {
  it(
    'diagnose slow --json with no targets configured: every check skips with a reason, exit 0',
    async () => {
      const run = await guardia(['diagnose', 'slow', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const r = report(run);
      expect(r.playbook).toBe('slow');
      expect(r.status).toBe('pass');
      // Guardia's JSON is snake_case everywhere (DESIGN.md §4), the report included.
      expect(Object.keys(r).sort()).toEqual(['findings', 'finished_at', 'playbook', 'started_at', 'status']);
      for (const f of r.findings) {
        expect(f.duration_ms, f.id).toBeGreaterThanOrEqual(0);
        expect(f.status, f.id).toBe('skip');
        expect(f.summary.en.length, f.id).toBeGreaterThan(10);
        expect(f.summary.es.length, f.id).toBeGreaterThan(10);
        expect(f.playbook).toBe('slow');
      }
      expect(run.stderr).toBe(''); // stderr is not a TTY here: no progress lines
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'for people: grouped lines with symbols, no colour when stdout is not a TTY; Spanish with --lang es',
    async () => {
      const en = await guardia(['diagnose', 'login']);
      expect(en.code, en.stderr).toBe(0);
      expect(en.stdout).toMatch(/^Playbook login: Cannot log in\n/);
      expect(en.stdout).toContain('  – ');
      expect(en.stdout).toMatch(/Result: PASS \(0 fail, 0 warn, 0 pass, \d+ skip; took/);
      expect(en.stdout).not.toContain('\x1b[');

      const es = await guardia(['diagnose', 'login', '--lang', 'es']);
      expect(es.stdout).toMatch(/^Playbook login: No se puede iniciar sesión\n/);
      expect(es.stdout).toMatch(/Resultado: OK \(0 fallos, 0 avisos, 0 ok, \d+ omitidas; duró/);

      const md = await guardia(['verify', 'tenant-indexes', '--markdown']);
      expect(md.code, md.stderr).toBe(0);
      expect(md.stdout).toContain('Playbook `tenant-indexes`');
      expect(md.stdout).toContain('|---|---|---|---|');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'cannot run → exit 2 saying why: unknown flag, bad values, both formats, tenant-performance without a tenant',
    async () => {
      const cases: [string[], RegExp][] = [
        [['diagnose', 'slow', '--bogus'], /unknown option '--bogus'/],
        [['diagnose', 'slow', '--timeout', 'soon'], /--timeout: expected a duration/],
        [['diagnose', 'login', '--app-url', 'app.internal'], /--app-url: expected an http\(s\) URL/],
        [['diagnose', 'errors', '--json', '--markdown'], /choose one of --json and --markdown/],
        [['diagnose', 'errors', '--lang', 'fr'], /--lang must be en or es/],
        [['diagnose', 'errors', '--incident', 'abc'], /--incident: expected a positive incident id/],
        [['verify', 'tenant-performance'], /pass --tenant ID/],
        [['diagnose', 'nothing'], /unknown command 'nothing'/],
      ];
      const runs = await Promise.all(cases.map(([args]) => guardia(args)));
      runs.forEach((run, i) => {
        expect(run.code, cases[i]![0].join(' ')).toBe(2);
        expect(run.stderr).toMatch(cases[i]![1]);
        expect(run.stdout).toBe('');
      });

      const json = await guardia(['diagnose', 'slow', '--json', '--window', '1 business day']);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stderr)).toEqual({
        error: { code: 'invalid_input', message: expect.stringContaining('--window') },
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'an invalid playbooks section exits 2 with FILE:LINE:COL; an unset ${ENV} makes its checks skip naming it',
    async () => {
      const bad = path.join(cwd, 'bad.yaml');
      fs.writeFileSync(
        bad,
        `${DEFAULT_POLICY_YAML}\n`.replace('  tenant_column: tenant_id', '  tenant_column: 1'),
      );
      const line = DEFAULT_POLICY_YAML.split('\n').findIndex((l) => l === '  tenant_column: tenant_id') + 1;
      const refused = await guardia(['diagnose', 'slow', '--policy', bad]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${bad}:${line}:18:`);

      const good = path.join(cwd, 'guardia-env.yaml');
      fs.writeFileSync(
        good,
        DEFAULT_POLICY_YAML.replace('  targets: {}', '  targets:\n    mysql_dsn: ${APP_MYSQL_DSN}'),
      );
      const run = await guardia(['diagnose', 'slow', '--json', '--policy', good]);
      expect(run.code, run.stderr).toBe(0);
      const mysql = report(run).findings.filter((f) => f.summary.en.includes('APP_MYSQL_DSN'));
      expect(mysql.length).toBeGreaterThan(0);
      for (const f of mysql) expect(f.status).toBe('skip');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a failing check exits 1, and no secret reaches stdout or stderr, in any format',
    async () => {
      const envFile = path.join(cwd, '.env.production');
      fs.writeFileSync(envFile, `NODE_ENV=production\nJWT_SECRET=${JWT_SECRET}\nTRUST_PROXY=1\n`);
      const args = [
        'diagnose',
        'slow',
        '--mysql-dsn',
        `mysql://root:${DB_PASSWORD}@127.0.0.1:1/app`,
        '--env-file',
        envFile,
        '--timeout',
        '5s',
      ];
      for (const format of [[], ['--json'], ['--markdown']]) {
        const run = await guardia([...args, ...format]);
        expect(run.code, run.stderr).toBe(1);
        expect(run.stdout + run.stderr).not.toContain(DB_PASSWORD);
        expect(run.stdout + run.stderr).not.toContain(JWT_SECRET);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '--incident records one timeline entry with the counts; an unknown incident exits 2 before running',
    async () => {
      const declared = await guardia([
        'incidents',
        'declare',
        '--title',
        'Errors in leads',
        '--severity',
        'sev2',
        '--json',
      ]);
      expect(declared.code, declared.stderr).toBe(0);
      const id = String((JSON.parse(declared.stdout) as { id: number }).id);

      const run = await guardia(['diagnose', 'errors', '--json', '--incident', id, '--as', 'alice']);
      expect(run.code, run.stderr).toBe(0);
      const r = report(run);
      expect(run.stderr).toContain(`Recorded on incident ${id}: playbook errors:`);

      const shown = await guardia(['incidents', 'show', id, '--json']);
      const timeline = (
        JSON.parse(shown.stdout) as {
          timeline: {
            kind: string;
            actor: string;
            message: string;
            data: { counts: Record<string, number>; findings: unknown[] };
          }[];
        }
      ).timeline;
      const entries = timeline.filter((e) => e.kind === 'playbook');
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ actor: 'alice' });
      expect(entries[0]!.message).toBe(`playbook errors: 0 fail, 0 warn, 0 pass, ${r.findings.length} skip`);
      expect(entries[0]!.data.counts).toEqual({ pass: 0, warn: 0, fail: 0, skip: r.findings.length });
      expect(entries[0]!.data.findings).toHaveLength(r.findings.length);

      const missing = await guardia(['diagnose', 'errors', '--incident', '424242']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('incident 424242 not found');
      expect(missing.stdout).toBe('');

      const rca = await guardia([
        'incidents',
        'rca',
        id,
        '--cause',
        'a null email',
        '--action',
        'validate the import payload',
        '--json',
      ]);
      expect(rca.code, rca.stderr).toBe(0);
      expect(JSON.parse(rca.stdout).details.rca).toMatchObject({
        root_cause: 'a null email',
        preventive_action: 'validate the import payload',
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '--incident with --server records through the API',
    async () => {
      const token = await guardia(['tokens', 'create', '--role', 'responder', '--name', 'diag', '--json']);
      expect(token.code, token.stderr).toBe(0);
      const secret = (JSON.parse(token.stdout) as { token: string }).token;
      const declared = await guardia([
        'incidents',
        'declare',
        '--title',
        'Slow app',
        '--severity',
        'sev2',
        '--json',
      ]);
      const id = String((JSON.parse(declared.stdout) as { id: number }).id);

      const server: ChildProcess = spawnGuardia(['serve'], {
        cwd,
        env: env({ GUARDIA_DATA_DIR: cwd, GUARDIA_PORT: '0' }),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let banner = '';
      const baseUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server not ready:\n${banner}`)), 60_000);
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
      try {
        const run = await guardia([
          'verify',
          'tenant-indexes',
          '--incident',
          id,
          '--server',
          baseUrl,
          '--token',
          secret,
        ]);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toContain(`Recorded on incident ${id}: playbook tenant-indexes:`);
        const refused = await guardia([
          'verify',
          'tenant-indexes',
          '--incident',
          id,
          '--server',
          baseUrl,
          '--token',
          'nope',
        ]);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain('HTTP 401');
      } finally {
        server.kill('SIGTERM');
      }
      const shown = await guardia(['incidents', 'show', id, '--json']);
      const kinds = (
        JSON.parse(shown.stdout) as { timeline: { kind: string; actor: string }[] }
      ).timeline.filter((e) => e.kind === 'playbook');
      expect(kinds).toEqual([expect.objectContaining({ actor: 'token:diag' })]);
    },
    TEST_TIMEOUT_MS,
  );
});

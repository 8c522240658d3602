/**
 * End-to-end monthly audit export: a month (2026-10) with incidents, workflow runs, weekly reviews, manual
 * evidence with an attachment, gate decisions and an override is exported by the real CLI twice → identical
 * bytes, manifest included; `sha256sum -c MANIFEST.sha256` passes; then one audit-log row is edited in the
 * database and `guardia audit verify` exits 1 naming it.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/domain/policy/load.js';
import { createServices, type AppServices } from '../../src/server/context.js';
import { FakeClock } from '../../src/shared/clock.js';
import { openStore } from '../../src/store/db.js';
import { upsertWorkflowRun } from '../../src/store/workflow-runs-repo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TEST_TIMEOUT_MS = 180_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function guardia(args: string[], cwd: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GUARDIA_')) env[k] = v;
  const proc = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd,
    env: { ...env, USER: 'e2e-auditor' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Every file under `dir`, relative path → bytes. */
function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full), fs.readFileSync(full));
  }
  return out;
}

const SMOKE = {
  workflow_path: '.github/workflows/backup-restore-smoke.yml',
  workflow_name: 'Backup restore smoke',
};
const PARITY = { workflow_path: '.github/workflows/parity.yml', workflow_name: 'Real DB parity' };
const BUILD = { workflow_path: '.github/workflows/ci.yml', workflow_name: 'Test/Build' };
let runId = 7000;

async function run(s: AppServices, w: typeof SMOKE, conclusion: string, completedAt: string): Promise<void> {
  const id = ++runId;
  await upsertWorkflowRun(
    s.store.db,
    {
      repo: 'acme/app',
      run_id: String(id),
      run_attempt: 1,
      run_number: id - 7000,
      ...w,
      head_branch: 'main',
      head_sha: null,
      event: 'schedule',
      status: 'completed',
      conclusion,
      html_url: `https://github.com/acme/app/actions/runs/${id}`,
      run_started_at: null,
      completed_at: completedAt,
      source: 'webhook',
    },
    completedAt,
  );
}

/** October 2026 as an SRE team would have lived it. */
async function seed(s: AppServices, clock: FakeClock): Promise<void> {
  clock.set('2026-09-30T10:00:00Z');
  await s.incidents.declare(
    { title: 'September incident (not in the export)', severity: 'sev3' },
    'token:ana',
  );
  // Weekly CI evidence: W40 (28 Sep–4 Oct) has no parity run — a hole that must stay visible — and W43's parity
  // run failed. Runs are stored in time order around the incident so the gate sees what it would have seen.
  const runs: [typeof SMOKE, string, string][] = [];
  for (const day of ['2026-10-01', '2026-10-06', '2026-10-13', '2026-10-20', '2026-10-27']) {
    runs.push([SMOKE, 'success', `${day}T03:10:00.000Z`], [BUILD, 'success', `${day}T12:00:00.000Z`]);
    if (day !== '2026-10-01')
      runs.push([PARITY, day === '2026-10-20' ? 'failure' : 'success', `${day}T13:00:00.000Z`]);
  }
  const before = runs.filter(([, , at]) => at < '2026-10-13T08:00');
  for (const [w, conclusion, at] of before) await run(s, w, conclusion, at);

  // A sev1 in week 42: acknowledged in time, mitigated late, resolved. The gate blocks while it is open.
  clock.set('2026-10-13T08:00:00Z');
  const sev1 = await s.incidents.declare(
    { title: 'Checkout returns 500 | all tenants', severity: 'sev1' },
    'token:ana',
  );
  clock.set('2026-10-13T08:03:00Z');
  await s.incidents.act(sev1.id, 'acknowledge', 'token:ana', 'on it');
  clock.set('2026-10-13T08:10:00Z');
  await s.gate.evaluate({ source: 'cli', actor: 'ci:release', context: { ref: 'v41' } });
  await s.gate.createOverride({
    reason: 'Hotfix for the checkout outage must ship',
    requested_by: 'token:ana',
    approved_by: 'luis',
    expires_at: new Date('2026-10-13T12:00:00Z'),
  });
  clock.set('2026-10-13T08:12:00Z');
  await s.gate.evaluate({ source: 'api', actor: 'token:ci', context: { ref: 'v41-hotfix' } });
  clock.set('2026-10-13T08:45:00Z');
  await s.incidents.act(sev1.id, 'mitigate', 'token:ana', 'rolled back to v40');
  clock.set('2026-10-13T10:00:00Z');
  await s.incidents.act(sev1.id, 'resolve', 'token:luis');
  await s.gate.evaluate({ source: 'cli', actor: 'ci:release' });
  for (const [w, conclusion, at] of runs.filter((r) => !before.includes(r))) await run(s, w, conclusion, at);

  // Weekly reviews (W40 none, W41 quiet, W42 with the sev1, W43 and W44 recorded).
  for (const [week, at] of [
    ['2026-W41', '2026-10-11T16:00:00Z'],
    ['2026-W42', '2026-10-18T16:00:00Z'],
    ['2026-W43', '2026-10-25T16:00:00Z'],
    ['2026-W44', '2026-11-01T16:00:00Z'],
  ] as const) {
    clock.set(at);
    await s.evidence.recordWeeklyReview(week, `Weekly review ${week} by Ana`, 'token:ana');
  }

  // Monthly: access review with an attachment, DR drill note with a link; the secret rotation audit is missing.
  clock.set('2026-10-28T09:00:00Z');
  await s.evidence.record(
    {
      requirement_id: 'access-review',
      period: '2026-10',
      status: 'success',
      summary: '14 production accounts reviewed; 2 removed',
      attachments: [
        {
          filename: 'access review.csv',
          content_type: 'text/csv',
          content: Buffer.from('account,decision\nops,keep\nold-intern,remove\n'),
        },
      ],
    },
    'token:luis',
  );
  await s.evidence.record(
    {
      requirement_id: 'dr-drill',
      period: '2026-10',
      status: 'success',
      summary: 'Restore drill: RTO 60 min, elapsed 23 min',
      links: [{ href: 'https://wiki.example.com/dr/2026-10', text: 'drill notes' }],
    },
    'token:luis',
  );
  clock.set('2026-11-02T09:00:00Z'); // activity after the month: must not appear in October's audit entries
  await s.evidence.record(
    { requirement_id: 'access-review', period: '2026-11', status: 'success', summary: 'November review' },
    'token:luis',
  );
}

describe('guardia audit export', () => {
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-e2e-audit-'));
    db = `sqlite:${path.join(dir, 'g.db')}`;
    const store = await openStore({ url: db });
    const clock = new FakeClock('2026-09-30T10:00:00Z');
    try {
      await seed(createServices(store, loadPolicy({}), clock, {}), clock);
    } finally {
      await store.close();
    }
  }, TEST_TIMEOUT_MS);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(
    'writes README, attachments and a manifest; twice → identical bytes; sha256sum -c passes',
    async () => {
      const first = await guardia(
        ['audit', 'export', '--month', '2026-10', '--out', 'ops/audit', '--database', db],
        dir,
      );
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout.trim()).toBe(path.join('ops/audit', '2026-10', 'README.md'));
      const monthDir = path.join(dir, 'ops/audit/2026-10');
      const tree1 = readTree(monthDir);
      expect([...tree1.keys()].sort()).toEqual([
        'MANIFEST.sha256',
        'README.md',
        'attachments/5-access_review.csv',
      ]);

      // Again, into the same folder and into another one: the same bytes, manifest included.
      const second = await guardia(
        ['audit', 'export', '--month', '2026-10', '--out', 'ops/audit', '--database', db],
        dir,
      );
      expect(second.code, second.stderr).toBe(0);
      const third = await guardia(
        ['audit', 'export', '--month', '2026-10', '--out', 'copy', '--database', db, '--json'],
        dir,
      );
      expect(third.code, third.stderr).toBe(0);
      expect(JSON.parse(third.stdout)).toMatchObject({ month: '2026-10', dir: path.join('copy', '2026-10') });
      for (const other of [readTree(monthDir), readTree(path.join(dir, 'copy/2026-10'))]) {
        expect([...other.keys()].sort()).toEqual([...tree1.keys()].sort());
        for (const [name, bytes] of tree1) expect(other.get(name)?.equals(bytes), name).toBe(true);
      }

      const check = spawnSync('sha256sum', ['-c', 'MANIFEST.sha256'], { cwd: monthDir, encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
      expect(check.stdout).toContain('README.md: OK');
      expect(check.stdout).toContain('attachments/5-access_review.csv: OK');

      const readme = tree1.get('README.md')!.toString('utf8');
      // Evidence tables: the month, and each ISO week overlapping it, with workflow-run links and holes.
      expect(readme).toContain('# Audit evidence — 2026-10');
      for (const week of ['2026-W40', '2026-W41', '2026-W42', '2026-W43', '2026-W44'])
        expect(readme).toContain(`### ${week}`);
      expect(readme).toMatch(/\| Secret rotation audit[^\n]*\| MISSING \| — \|/);
      expect(readme).toMatch(
        /\| Access review[^\n]*\| met \|[^\n]*\[access review\.csv\]\(attachments\/5-access_review\.csv\)/,
      );
      expect(readme).toContain('[drill notes](https://wiki.example.com/dr/2026-10)');
      expect(readme).toContain(
        'record 2 (success): 1 incident (1 sev1); 1 with an SLA breach (note: Weekly review 2026-W42 by Ana)',
      );
      expect(readme).toMatch(
        /### 2026-W40[\s\S]*?CI green: Real DB parity \(`ci-real-db-parity`\) \| MISSING/,
      );
      expect(readme).toMatch(
        /### 2026-W43[\s\S]*?CI green: Real DB parity \(`ci-real-db-parity`\) \| FAILED/,
      );
      expect(readme).toContain('(https://github.com/acme/app/actions/runs/');
      // Incidents started in the month, with SLA outcome and full timeline (and a pipe in a title escaped).
      expect(readme).toContain('### Incident #2 — [sev1] Checkout returns 500 \\| all tenants');
      expect(readme).toContain(
        '- Mitigated: 2026-10-13T08:45:00.000Z by token:ana — SLA breached (due 2026-10-13T08:30:00.000Z)',
      );
      expect(readme).toContain(
        '| 2026-10-13T08:45:00.000Z | token:ana | mitigated | Mitigated by token:ana: rolled back to v40 |',
      );
      expect(readme).not.toContain('September incident');
      // Gate decisions and the override.
      expect(readme).toContain('Decisions recorded in 2026-10: 3.');
      expect(readme).toMatch(/\| blocked \| 1 \|\n\| overridden \| 1 \|\n\| pass \| 1 \|/);
      expect(readme).toMatch(/\| Hotfix for the checkout outage must ship \| no \|/);
      expect(readme).toContain('| token:ana | luis |');
      // The month's audit entries with their hashes, and the chain head the month ends on.
      expect(readme).toMatch(
        /Entries recorded in 2026-10: \d+\. Chain head at the end of the month: `[0-9a-f]{64}`/,
      );
      expect(readme).toContain('| gate.override | override:1 |');
      expect(readme).not.toContain('November review');
      expect(readme).not.toMatch(/generated at/i);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '--screenshots says the console is needed and takes none (exit 0)',
    async () => {
      const res = await guardia(
        ['audit', 'export', '--month', '2026-10', '--out', 'shots', '--screenshots', '--database', db],
        dir,
      );
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toContain('screenshots need the web console');
      expect(fs.readdirSync(path.join(dir, 'shots/2026-10')).sort()).toEqual([
        'MANIFEST.sha256',
        'README.md',
        'attachments',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'evidence status exits 1 for a closed period with a hole, 0 when every requirement was met',
    async () => {
      const hole = await guardia(['evidence', 'status', '--period', '2026-W40', '--database', db], dir);
      expect(hole.code, hole.stderr).toBe(1);
      expect(hole.stdout).toMatch(/ci-real-db-parity\s+MISSING/);
      expect(hole.stdout).toMatch(
        /backup-restore-smoke\s+met\s+Backup restore smoke #1 success on main https:/,
      );
      const full = await guardia(
        ['evidence', 'status', '--period', '2026-W41', '--json', '--database', db],
        dir,
      );
      expect(full.code, full.stderr).toBe(0);
      const report = JSON.parse(full.stdout) as { periods: { requirements: { state: string }[] }[] };
      expect(report.periods[0]!.requirements.map((r) => r.state)).toEqual(['met', 'met', 'met', 'met']);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'one edited audit-log row → guardia audit verify exits 1 naming it',
    async () => {
      const ok = await guardia(['audit', 'verify', '--database', db], dir);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      const store = await openStore({ url: db });
      let edited: number;
      try {
        const row = await store.db
          .selectFrom('audit_log')
          .select('id')
          .where('action', '=', 'gate.override')
          .executeTakeFirstOrThrow();
        edited = Number(row.id);
        await store.db
          .updateTable('audit_log')
          .set({ data: JSON.stringify({ reason: 'routine release', approved_by: 'luis' }) })
          .where('id', '=', edited)
          .execute();
      } finally {
        await store.close();
      }
      const broken = await guardia(['audit', 'verify', '--database', db], dir);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toContain(`entry ${edited}: entry ${edited} (gate.override override:1`);
      expect(broken.stdout).toContain('was edited');
    },
    TEST_TIMEOUT_MS,
  );
});

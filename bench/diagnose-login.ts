/**
 * `diagnose login` benchmark: the whole login playbook (11 checks, run concurrently by the runner) against the
 * real reference app — two instances behind the TLS-proxy stand-in, MariaDB, Redis — timed over several runs.
 * Target: the whole playbook answers in under 3 s (the runbook's "diagnóstico rápido").
 *
 *   npx tsx bench/diagnose-login.ts [--runs 15] [--warmup 2]
 *
 * Each run gets a fresh context (no probe is shared between runs). Reported: wall time of the playbook
 * (median / p95 / min / max), the slowest check's median, and each check's median duration; the machine's load
 * average beside them, since other engineers' builds share it. The app is healthy (every switch off), so each run
 * does the full work: env file, /healthz of both instances, two CORS preflights, a real login through the proxy
 * plus auth.me, a login on instance 0 presented to instance 1, a log scan and a tenant query.
 * Results: printed as JSON and Markdown, and written to bench/results/diagnose-login-<timestamp>.{json,md}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TARGETS, type CheckContext } from '../src/playbooks/check.js';
import { runPlaybook } from '../src/playbooks/runner.js';
import { startReferenceApp } from '../test/helpers/reference-app.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const num = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const RUNS = num('runs', 15);
const WARMUP = num('warmup', 2);
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs needs an integer ≥ 3');
const TARGET_MS = 3000;
/** The runner's per-check timeout: generous, so a slow check shows up as slow rather than as a timeout. */
const CHECK_TIMEOUT_MS = 10_000;

interface Stats {
  n: number;
  median_ms: number;
  p95_ms: number;
  min_ms: number;
  max_ms: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    median_ms: round(s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2),
    p95_ms: round(at(0.95)),
    min_ms: round(s[0]!),
    max_ms: round(s[s.length - 1]!),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const app = await startReferenceApp({ instances: 2 });
  const setupMs = Date.now() - started;
  try {
    const context = (): CheckContext => ({
      targets: {
        ...DEFAULT_TARGETS,
        appUrl: app.appUrl,
        ...(app.proxyUrl ? { proxyUrl: app.proxyUrl } : {}),
        instances: app.urls,
        envFile: app.envFile,
        login: app.login,
        mysqlDsn: app.mysqlDsn,
        redisUrl: app.redisUrl,
        logFile: app.logFiles.join(','),
      },
      options: {},
      now: () => new Date(),
      secrets: app.secrets,
    });
    const walls: number[] = [];
    const perCheck = new Map<string, number[]>();
    const statuses = new Set<string>();
    const load: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const t0 = performance.now();
      const report = await runPlaybook('login', context(), { timeoutMs: CHECK_TIMEOUT_MS });
      const wall = performance.now() - t0;
      if (i < WARMUP) continue;
      walls.push(wall);
      load.push(os.loadavg()[0]!);
      statuses.add(report.status);
      for (const f of report.findings) perCheck.set(f.id, [...(perCheck.get(f.id) ?? []), f.durationMs]);
    }
    const wall = stats(walls);
    const checks = Object.fromEntries(
      [...perCheck]
        .map(([id, xs]) => [id, stats(xs)])
        .sort((a, b) => (b[1] as Stats).median_ms - (a[1] as Stats).median_ms),
    ) as Record<string, Stats>;
    const slowest = Object.entries(checks)[0]!;
    const out = {
      bench: 'diagnose-login',
      at: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      runs: RUNS,
      warmup: WARMUP,
      instances: app.urls.length,
      via_proxy: !!app.proxyUrl,
      app_setup_ms: setupMs,
      playbook_status: [...statuses],
      target_ms: TARGET_MS,
      met: wall.p95_ms < TARGET_MS,
      playbook_wall: wall,
      slowest_check: { id: slowest[0], ...slowest[1] },
      checks,
      loadavg_1m: { median: stats(load).median_ms, max: stats(load).max_ms },
    };
    const md = [
      `### guardia diagnose login (11 checks, concurrent), ${RUNS} runs — target < ${TARGET_MS / 1000} s: ${out.met ? 'met' : 'NOT met'} (median ${wall.median_ms} ms, p95 ${wall.p95_ms} ms)`,
      '',
      '| what | median ms | p95 ms | min–max ms |',
      '|---|---|---|---|',
      `| **whole playbook** (wall) | ${wall.median_ms} | ${wall.p95_ms} | ${wall.min_ms}–${wall.max_ms} |`,
      ...Object.entries(checks).map(
        ([id, s]) => `| \`${id}\` | ${s.median_ms} | ${s.p95_ms} | ${s.min_ms}–${s.max_ms} |`,
      ),
      '',
      `Reference app: ${app.urls.length} instances behind the proxy stand-in, MariaDB, Redis; report status ${[...statuses].join('/')}. ` +
        `Node ${process.version}, ${out.cpus} CPUs, load average (1 min) median ${out.loadavg_1m.median}, max ${out.loadavg_1m.max} during the runs.`,
    ].join('\n');
    const json = JSON.stringify(out, null, 2);
    process.stdout.write(`${json}\n\n${md}\n`);
    const results = path.join(ROOT, 'bench/results');
    fs.mkdirSync(results, { recursive: true });
    const base = path.join(results, `diagnose-login-${out.at.replace(/[:.]/g, '-')}`);
    fs.writeFileSync(`${base}.json`, `${json}\n`);
    fs.writeFileSync(`${base}.md`, `${md}\n`);
  } finally {
    await app.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

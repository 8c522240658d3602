/**
 * What one alert costs in CPU instructions, a figure that does not move with the machine's speed:
 *
 *   npx tsx bench/ingest-instructions.ts [--skip-build] [--http | --engine] [--small 3000] [--large 6000]
 *
 * The reference machine's speed moves a lot from one session to the next (its bare-Fastify ceiling has read 31,000,
 * 15,000 and 9,800 req/s on different days), so alerts/s from bench/ingest.ts cannot be compared across sessions,
 * and this machine has no hardware counters (`perf stat` says "not supported"). valgrind's callgrind counts the
 * instructions a process executes instead, the same from run to run on any x86-64 machine.
 *
 * It runs the ingest path in-process (IngestService on a fresh SQLite file, 100 alerts in flight, the same unique
 * PagerDuty-like alerts as the HTTP bench; no HTTP; with `--http`, the whole `POST /v2/enqueue` route through
 * Fastify's inject, no socket; with `--engine`, the same alerts then paged by the escalation engine, as on a fresh
 * install where every page ends in a chain of failures) under callgrind twice, with `--small` and `--large` alerts, and
 * reports the difference divided by the difference in alerts: instructions per alert once warmed up, with start-up and
 * the JIT's first compilations cancelled out. Node runs with V8's --predictable: one thread, so JIT and GC work is
 * counted (that is part of the cost), and a garbage-collection schedule that does not follow the wall clock.
 * How repeatable: the default mode gave 713.6k, 714.4k and 713k for one build (runs alone and side by side). The `--http` mode does not repeat as well:
 * one build gave 1,088k to 1,307k across five runs (why was not pinned down; work scheduled by the wall clock somewhere on that path is the likely cause), so only compare large differences
 * with it. Then the same two runs natively give CPU µs per alert on this machine today,
 * and the ratio of the two says how fast this machine is today (instructions per µs).
 *
 * Needs valgrind (Debian's package; on the reference machine). Takes ~4 minutes on 2 cores (the two sizes run side by side).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const num = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive whole number`);
  return value;
};
/**
 * `ingest`: IngestService alone; `http`: the whole `POST /v2/enqueue` route around it; `engine`: IngestService, then
 * the engine paging every new incident (subtract the `ingest` figure for the engine's share).
 */
const MODE = argv.includes('--http') ? 'http' : argv.includes('--engine') ? 'engine' : 'ingest';
const SMALL = num('small', 3_000);
const LARGE = num('large', 6_000);
if (LARGE <= SMALL) throw new Error('--large must be more than --small');

/**
 * The measured program: N unique alerts, 100 in flight, through IngestService (`ingest`) or through the server's
 * `POST /v2/enqueue` route by Fastify's inject (`http`: routing, parsing, validation, hooks, logging at warn;
 * no socket); prints its own CPU µs per alert.
 */
const CHILD = `
const dist = ${JSON.stringify(path.join(ROOT, 'dist'))};
const fs = await import('node:fs'), os = await import('node:os'), path = await import('node:path');
const { openStore } = await import(dist + '/store/db.js');
const { loadPolicy } = await import(dist + '/domain/policy/load.js');
const { createServices } = await import(dist + '/server/context.js');
const { systemClock } = await import(dist + '/shared/clock.js');
const { newWriteLock } = await import(dist + '/store/sqlite-write-lock.js');
const n = Number(process.argv[1]);
const mode = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-instructions-'));
const store = await openStore({ url: 'sqlite:' + dir + '/bench.db', writeLock: newWriteLock() });
const key = 'R0UT1NGKEYB3NCHR0UT1NGKEYB3NCH00';
// As in \`guardia serve\` (serve.ts): the services read the process's environment.
process.env.PAGERDUTY_ROUTING_KEY = key;
const services = createServices(store, loadPolicy({}), systemClock, process.env, {});
let send;
if (mode === 'http') {
  const { buildApp } = await import(dist + '/server/app.js');
  const { createLogger } = await import(dist + '/server/logger.js');
  const { loadConfig } = await import(dist + '/config.js');
  const config = loadConfig({}, { GUARDIA_RATE_LIMIT_HOOKS: '0' });
  const app = await buildApp(services, { logger: createLogger('warn'), bodyLimit: config.bodyLimit, rateLimits: config.rateLimits });
  await app.ready();
  // The same event as bench/ingest.ts sends.
  const body = (i) => JSON.stringify({
    routing_key: key, event_action: 'trigger', dedup_key: 'bench-' + i,
    payload: { summary: 'High CPU on api-' + (i % 500) + ': 97% for 5m (bench-' + i + ')', source: 'api-' + (i % 500) + '.prod.example.com',
      severity: 'error', component: 'api', group: 'prod', class: 'cpu', custom_details: { cpu_percent: 97, window: '5m', n: i } },
    client: 'bench',
  });
  send = async (i) => {
    const res = await app.inject({ method: 'POST', url: '/v2/enqueue', payload: body(i), headers: { 'content-type': 'application/json' } });
    if (res.statusCode !== 202) throw new Error('answered ' + res.statusCode + ': ' + res.body);
  };
} else {
  send = (i) => services.ingest.accept(alert(i));
}
const alert = (i) => ({
  integration: 'pagerduty', action: 'trigger', dedup_key: 'host-' + i + '-disk', title: 'Disk full on host-' + i,
  severity: 'sev2', source: 'host-' + i, details: { mount: '/var', used_pct: 97 }, links: [], occurred_at: null,
  delivery_key: null,
  raw: JSON.stringify({ event_action: 'trigger', payload: { summary: 'Disk full on host-' + i, source: 'host-' + i, severity: 'error' } }),
});
const start = process.cpuUsage();
let next = 0;
await Promise.all(Array.from({ length: 100 }, async () => { while (next < n) await send(next++); }));
if (mode === 'engine') {
  // Then page every new incident, as the engine thread would (a fresh install: each page's chain of failures).
  const { Engine } = await import(dist + '/engine/engine.js');
  const engine = new Engine(services, { onError: (err) => { throw err; } });
  const done = await engine.runDue();
  if (done.timers < n) throw new Error('the engine fired ' + done.timers + ' timers for ' + n + ' incidents');
}
const used = process.cpuUsage(start);
await store.close();
fs.rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ cpuUsPerAlert: (used.user + used.system) / n }) + '\\n');
`;

interface Run {
  alerts: number;
  instructions?: number;
  cpuUsPerAlert: number;
}

function run(alerts: number, underValgrind: boolean): Promise<Run> {
  const node = [process.execPath, '--predictable', '--input-type=module', '-e', CHILD, String(alerts), MODE];
  const outFile = path.join(os.tmpdir(), `guardia-callgrind-${process.pid}-${alerts}.out`);
  const [cmd, ...args] = underValgrind
    ? ['valgrind', '--tool=callgrind', '--cache-sim=no', `--callgrind-out-file=${outFile}`, ...node]
    : node;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      fs.rmSync(outFile, { force: true });
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}:\n${stderr.slice(-2_000)}`));
      const collected = /Collected : (\d+)/.exec(stderr);
      if (underValgrind && !collected)
        return reject(new Error(`no instruction count from callgrind:\n${stderr}`));
      const { cpuUsPerAlert } = JSON.parse(stdout.trim().split('\n').pop()!) as { cpuUsPerAlert: number };
      resolve({ alerts, cpuUsPerAlert, ...(collected ? { instructions: Number(collected[1]) } : {}) });
    });
  });
}

async function main(): Promise<void> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('valgrind is not installed: apt-get install -y valgrind');
  }
  if (!argv.includes('--skip-build')) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  process.stderr.write(`callgrind: ${SMALL} and ${LARGE} alerts side by side (a few minutes) …\n`);
  const [small, large] = await Promise.all([run(SMALL, true), run(LARGE, true)]);
  process.stderr.write('native: the same two sizes, one after the other …\n');
  const nativeSmall = await run(SMALL, false);
  const nativeLarge = await run(LARGE, false);
  const perAlert = (large.instructions! - small.instructions!) / (LARGE - SMALL);
  // Native CPU per alert at the margin, computed the same way as the instruction count.
  const nativeUs = (nativeLarge.cpuUsPerAlert * LARGE - nativeSmall.cpuUsPerAlert * SMALL) / (LARGE - SMALL);
  // Timed while other work ran, the margin can come out at or below zero: then it says nothing.
  const native = nativeUs > 0 ? Math.round(nativeUs) : undefined;
  const result = {
    mode: MODE,
    alerts: { small: SMALL, large: LARGE },
    instructions: { small: small.instructions, large: large.instructions },
    instructionsPerAlert: Math.round(perAlert),
    nativeCpuUsPerAlert: native ?? null,
    instructionsPerUs: native ? Math.round(perAlert / native) : null,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  const what = {
    http: 'POST /v2/enqueue by inject',
    ingest: 'IngestService, no HTTP',
    engine: 'IngestService, then the engine pages each new incident',
  }[MODE];
  process.stdout.write(
    `\nIngest (${what}): ${(perAlert / 1e3).toFixed(0)}k instructions per alert; ` +
      (native
        ? `${native} µs per alert here today, i.e. this machine runs ${result.instructionsPerUs} instructions per µs on it.\n`
        : 'the native timing was disturbed by other work (no figure).\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * Chaos: SIGKILL while the escalation engine is paging. The default policy pages the primary on Slack at T+0 for
 * every sev1; the Slack stand-in (a real local HTTP peer) answers each page after 50-400 ms, so pages are on the
 * wire when the process dies. Every cycle: restart on the same store, check every 202, storm of sev1 alerts with
 * unique keys (one incident each), wait for the cycle's first page to reach Slack, SIGKILL at a random moment
 * (then as soon as a page is on the wire, if none is).
 * After the last restart (and the dead processes' leases, 30 s, have expired) every incident's step-0 page must
 * be delivered at least once, and no step may have fired twice: one escalation_step timer per step, step 0 `done`
 * exactly once, one "Escalation step 1" timeline entry and one page row per incident. Delivery is at-least-once:
 * a page sent just before a kill, whose result was not yet recorded, is sent again after the lease expires —
 * those duplicates at the Slack stand-in are allowed and counted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, it, type ExpectStatic } from 'vitest';
import { openStore } from '../../src/store/db.js';
import {
  chaosSeed,
  cleanEnv,
  crashLoop,
  createPgDatabase,
  killChildren,
  seededRandom,
  serverCommand,
  sleep,
  stopServer,
  withTimeout,
  type ServerCommand,
} from '../helpers/crash.js';
import { startFaultySink, type FaultySink } from '../helpers/faults.js';
import { recordChaos } from './stats.js';

const GENERIC_TOKEN = 'chaos-engine-generic-token-0123456789';
const KILLS = Number(process.env.GUARDIA_CHAOS_ENGINE_KILLS) || 10;
/** The engine's lease (src/engine/engine.ts default): a dead process's claimed work waits this long. */
const LEASE_MS = 30_000;

describe('SIGKILL during escalation', () => {
  afterAll(killChildren);

  // SQLite and PostgreSQL side by side (separate stores, servers and Slack stand-ins); each ends waiting out the
  // dead processes' leases, which overlaps.
  it.concurrent.for<'sqlite' | 'postgres'>(['sqlite', 'postgres'])(
    `%s: every incident's step-0 page is delivered, no step fires twice, across ${KILLS} kills`,
    { timeout: 600_000 },
    async (dialect, { expect }) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `guardia-chaos-engine-${dialect}-`));
      const command = await serverCommand();
      const slack = await startFaultySink();
      let dropDb: (() => Promise<void>) | undefined;
      try {
        await engineChaos(dialect, dir, command, slack, (db) => (dropDb = db), expect);
      } finally {
        command.cleanup();
        await slack.close();
        await dropDb?.();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

async function engineChaos(
  dialect: 'sqlite' | 'postgres',
  dir: string,
  command: ServerCommand,
  slack: FaultySink,
  onDatabase: (drop: () => Promise<void>) => void,
  expect: ExpectStatic,
): Promise<void> {
  let dbUrl = `sqlite:${path.join(dir, 'g.db')}`;
  if (dialect === 'postgres') {
    const db = await createPgDatabase();
    onDatabase(db.drop);
    dbUrl = db.url;
  }
  const env = cleanEnv({
    GUARDIA_DATABASE_URL: dbUrl,
    GUARDIA_DATA_DIR: dir,
    GUARDIA_PORT: '0',
    GUARDIA_HOST: '127.0.0.1',
    GENERIC_TOKEN,
    SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/XXXX`,
  });
  const seed = chaosSeed();
  const random = seededRandom(seed);
  slack.behave = () => ({ status: 200, body: 'ok', delayMs: 50 + Math.round(350 * random()) });
  let cycleStartRequests = 0;
  let killsWithPagesInFlight = 0;
  let pagesInFlightAtKills = 0;
  const started = Date.now();

  const run = await crashLoop(
    {
      label: `engine ${dialect} (seed ${seed})`,
      command,
      dir,
      env,
      dbUrl,
      token: GENERIC_TOKEN,
      kills: KILLS,
      random,
      killWindowMs: [0, 500],
      inFlight: 4,
      prefix: 'engine',
      key: (cycle, n) => `engine-${cycle}-${n}`,
      severity: () => 'critical',
      afterRestart: async () => {
        cycleStartRequests = slack.requests.length;
      },
      // Kill while pages are being sent: only once this cycle's first page has reached Slack.
      beforeKill: async (_server, cycle) => {
        const until = Date.now() + 15_000;
        while (slack.requests.length === cycleStartRequests && Date.now() < until) await sleep(10);
        if (slack.requests.length === cycleStartRequests)
          throw new Error(`cycle ${cycle}: no page reached Slack within 15 s`);
      },
      killWhen: () => slack.inFlight() > 0,
      atKill: () => {
        const inFlight = slack.inFlight();
        if (inFlight > 0) killsWithPagesInFlight++;
        pagesInFlightAtKills += inFlight;
      },
    },
    (problems, what) => expect(problems, what).toEqual([]),
  );

  const store = await openStore({ url: dbUrl, migrate: false });
  try {
    // The storm is over; the last server finishes the work, including what dead processes had leased.
    const undelivered = async () =>
      Number(
        (
          await store.db
            .selectFrom('notifications')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('kind', '=', 'page')
            .where('status', '<>', 'delivered')
            .executeTakeFirstOrThrow()
        ).n,
      ) +
      Number(
        (
          await store.db
            .selectFrom('timers')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('kind', '=', 'escalation_step')
            .where('status', '=', 'pending')
            .where('due_at', '<=', new Date().toISOString())
            .executeTakeFirstOrThrow()
        ).n,
      );
    const drainStarted = Date.now();
    await withTimeout(
      (async () => {
        while ((await undelivered()) > 0) await sleep(250);
      })(),
      LEASE_MS + 60_000,
      'every due step fired and every page delivered after the last restart',
    );
    const drainMs = Date.now() - drainStarted;

    const incidents = await store.db.selectFrom('incidents').select(['id', 'severity']).execute();
    const timers = await store.db
      .selectFrom('timers')
      .select(['incident_id', 'payload', 'status', 'outcome'])
      .where('kind', '=', 'escalation_step')
      .execute();
    const pages = await store.db
      .selectFrom('notifications')
      .select(['incident_id', 'payload', 'status', 'attempts', 'person_id', 'channel'])
      .where('kind', '=', 'page')
      .execute();
    const escalated = await store.db
      .selectFrom('incident_events')
      .select(['incident_id', 'message'])
      .where('kind', '=', 'escalated')
      .execute();

    const problems: string[] = [];
    const stepRows = new Map<string, { status: string }[]>();
    for (const t of timers) {
      const step = (JSON.parse(t.payload) as { step: { index: number } }).step.index;
      const k = `${t.incident_id}/${step}`;
      stepRows.set(k, [...(stepRows.get(k) ?? []), t]);
    }
    const pagesByIncident = new Map<number, typeof pages>();
    for (const p of pages)
      pagesByIncident.set(p.incident_id, [...(pagesByIncident.get(p.incident_id) ?? []), p]);
    const step1Entries = new Map<number, number>();
    for (const e of escalated)
      if (e.message.startsWith('Escalation step 1 '))
        step1Entries.set(e.incident_id, (step1Entries.get(e.incident_id) ?? 0) + 1);
    const atSlack = new Map<number, number>();
    for (const r of slack.requests) {
      const id = /\/api\/v1\/incidents\/(\d+)/.exec(r.body)?.[1];
      if (id) atSlack.set(Number(id), (atSlack.get(Number(id)) ?? 0) + 1);
    }

    for (const incident of incidents) {
      const id = Number(incident.id);
      expect(incident.severity).toBe('sev1');
      for (const step of [0, 1, 2]) {
        const rows = stepRows.get(`${id}/${step}`) ?? [];
        if (rows.length !== 1) problems.push(`incident ${id}: ${rows.length} timers for step ${step}`);
      }
      const step0 = stepRows.get(`${id}/0`)?.[0];
      if (step0 && step0.status !== 'done') problems.push(`incident ${id}: step 0 timer is ${step0.status}`);
      const own = pagesByIncident.get(id) ?? [];
      if (own.length !== 1)
        problems.push(`incident ${id}: ${own.length} page rows (step 0 fired ${own.length}×)`);
      for (const p of own)
        if (p.status !== 'delivered' || p.person_id !== 'eng-lead' || p.channel !== 'slack')
          problems.push(`incident ${id}: page ${p.person_id}/${p.channel} is ${p.status}`);
      if ((step1Entries.get(id) ?? 0) !== 1)
        problems.push(`incident ${id}: ${step1Entries.get(id) ?? 0} "Escalation step 1" timeline entries`);
      if ((atSlack.get(id) ?? 0) < 1) problems.push(`incident ${id}: no page reached Slack`);
    }
    expect(problems.slice(0, 20), `${problems.length} problem(s)`).toEqual([]);

    const duplicates = [...atSlack.values()].reduce((sum, n) => sum + (n - 1), 0);
    const retries = pages.reduce((sum, p) => sum + Math.max(0, Number(p.attempts) - 1), 0);
    expect(run.kills).toBe(KILLS);
    recordChaos(`crash-engine ${dialect}`, {
      seed,
      kills_survived: run.kills,
      kills_with_pages_in_flight: killsWithPagesInFlight,
      pages_in_flight_at_kills: pagesInFlightAtKills,
      alerts_answered_202: run.promised.length,
      alerts_202_lost: 0,
      incidents: incidents.length,
      step0_pages_delivered: pages.filter((p) => p.status === 'delivered').length,
      steps_fired_twice: 0,
      slack_requests: slack.requests.length,
      duplicate_pages_at_slack: duplicates,
      recorded_retries: retries,
      drain_after_last_restart_ms: drainMs,
      seconds: Math.round((Date.now() - started) / 1000),
    });
  } finally {
    await store.close();
    const exit = await stopServer(run.server);
    expect(exit.code).toBe(0);
  }
}

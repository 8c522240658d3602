/**
 * Micro-benchmark of the SQLite work one new PagerDuty alert costs, without HTTP, to size the suggestions from
 * bench/ingest.ts's profile:
 *
 *   npx tsx bench/sqlite-hot-path.ts [--alerts 20000]
 *
 * On the migrated schema (src/store/migrations), 100 alerts per transaction as the group commit does:
 *   kysely-like      the five statements IngestService runs for a new key, prepared on every run (what Kysely's
 *                    SqliteDriver does: `db.prepare(sql)` per query)
 *   cached           the same five, each prepared once
 *   cached+literal   the same five with 'resolved' written into the SQL instead of bound as a parameter: the
 *                    partial index incidents_open_dedup (where status <> 'resolved') makes SQLite's plan depend on
 *                    that parameter's value, so every new binding expires the statement and it is re-prepared
 *   cached+merged    four: the open and recently-resolved lookups merged into one select
 * and, separately, the CPU Kysely spends building and compiling those five queries (no execution).
 * All figures are CPU µs per alert of this single thread (robust to other processes), and alerts/s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { openStore } from '../src/store/db.js';
import type { Database as Schema } from '../src/store/schema.js';

const argv = process.argv.slice(2);
const N = Number(argv[argv.indexOf('--alerts') + 1] ?? '') || 20_000;
const BATCH = 100;

const SQL = {
  open: `select * from "incidents" where "dedup_key" = ? and "status" <> ?`,
  recent: `select * from "incidents" where "dedup_key" = ? and "status" = ? and "resolved_at" >= ? order by "resolved_at" desc limit ?`,
  openLiteral: `select * from "incidents" where "dedup_key" = ? and "status" <> 'resolved'`,
  recentLiteral: `select * from "incidents" where "dedup_key" = ? and "status" = 'resolved' and "resolved_at" >= ? order by "resolved_at" desc limit 1`,
  merged:
    `select * from "incidents" where "dedup_key" = ? and ("status" <> 'resolved' or "resolved_at" >= ?) ` +
    `order by "status" = 'resolved', "resolved_at" desc limit 1`,
  incident:
    `insert into "incidents" ("title", "severity", "status", "dedup_key", "integration", "route", "source", "started_at", "ack_due_at", ` +
    `"mitigate_due_at", "acknowledged_at", "acknowledged_by", "ack_implied", "mitigated_at", "mitigated_by", "mitigation_implied", ` +
    `"resolved_at", "resolved_by", "alert_count", "last_alert_at", "reopen_count", "details", "links", "created_at", "updated_at") ` +
    `values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning "id"`,
  event: `insert into "incident_events" ("incident_id", "at", "actor", "kind", "message", "data") values (?, ?, ?, ?, ?, ?)`,
  alert:
    `insert into "alerts" ("integration", "dedup_key", "action", "title", "severity", "source", "received_at", "incident_id", ` +
    `"outcome", "delivery_key", "payload") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning "id"`,
};

const payload = (i: number) =>
  JSON.stringify({
    routing_key: 'R0UT1NGKEYB3NCHR0UT1NGKEYB3NCH00',
    event_action: 'trigger',
    dedup_key: `k-${i}`,
    payload: {
      summary: `High CPU on api-${i % 500}`,
      source: `api-${i % 500}.prod`,
      severity: 'error',
      custom_details: { n: i },
    },
  });

function cpuUs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

type Variant = 'kysely-like' | 'cached' | 'cached+literal' | 'cached+merged';

function run(file: string, variant: Variant) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    if (variant === 'kysely-like') return db.prepare(sql);
    let s = cache.get(sql);
    if (!s) cache.set(sql, (s = db.prepare(sql)));
    return s;
  };
  const perStatement: Record<string, number> = {};
  const timed = <T>(name: string, fn: () => T): T => {
    const t = process.hrtime.bigint();
    const out = fn();
    perStatement[name] = (perStatement[name] ?? 0) + Number(process.hrtime.bigint() - t) / 1e3;
    return out;
  };
  const t0 = process.hrtime.bigint();
  const us = cpuUs(() => {
    for (let i = 0; i < N; i += BATCH) {
      timed('begin', () => stmt('begin').run());
      for (let j = i; j < Math.min(N, i + BATCH); j++) {
        const now = new Date().toISOString();
        const key = `k-${j}`;
        if (variant === 'cached+merged') timed('lookup (merged)', () => stmt(SQL.merged).all(key, now));
        else if (variant === 'cached+literal') {
          timed('find open', () => stmt(SQL.openLiteral).all(key));
          timed('find recently resolved', () => stmt(SQL.recentLiteral).all(key, now));
        } else {
          timed('find open', () => stmt(SQL.open).all(key, 'resolved'));
          timed('find recently resolved', () => stmt(SQL.recent).all(key, 'resolved', now, 1));
        }
        const [row] = timed(
          'insert incident',
          () =>
            stmt(SQL.incident).all(
              `High CPU on api-${j % 500}`,
              'sev2',
              'triggered',
              key,
              'pagerduty',
              'pager',
              `api-${j % 500}.prod`,
              now,
              now,
              now,
              null,
              null,
              0,
              null,
              null,
              0,
              null,
              null,
              1,
              now,
              0,
              '{"component":"api"}',
              '[]',
              now,
              now,
            ) as { id: number }[],
        );
        timed('insert timeline event', () =>
          stmt(SQL.event).run(
            row!.id,
            now,
            'integration:pagerduty',
            'opened',
            `Opened from pagerduty alert (route pager, sev2)`,
            '{}',
          ),
        );
        timed('insert alert', () =>
          stmt(SQL.alert).all(
            'pagerduty',
            key,
            'trigger',
            `High CPU on api-${j % 500}`,
            'sev2',
            `api-${j % 500}.prod`,
            now,
            row!.id,
            'opened',
            null,
            payload(j),
          ),
        );
      }
      timed('commit', () => stmt('commit').run());
    }
  });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  db.close();
  return {
    variant,
    cpuUsPerAlert: Math.round(us / N),
    alertsPerS: Math.round(N / wallS),
    wallUsPerAlertByStatement: Object.fromEntries(
      Object.entries(perStatement).map(([k, v]) => [k, Math.round((v / N) * 10) / 10]),
    ),
  };
}

/** CPU Kysely spends building + compiling the five queries of a new alert (no execution). */
function kyselyCompile() {
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  const now = new Date().toISOString();
  const once = (i: number) => {
    const key = `k-${i}`;
    db.selectFrom('incidents')
      .selectAll()
      .where('dedup_key', '=', key)
      .where('status', '<>', 'resolved')
      .compile();
    db.selectFrom('incidents')
      .selectAll()
      .where('dedup_key', '=', key)
      .where('status', '=', 'resolved')
      .where('resolved_at', '>=', now)
      .orderBy('resolved_at', 'desc')
      .limit(1)
      .compile();
    db.insertInto('incidents')
      .values({
        title: 't',
        severity: 'sev2',
        status: 'triggered',
        dedup_key: key,
        integration: 'pagerduty',
        route: 'pager',
        source: 's',
        started_at: now,
        ack_due_at: now,
        mitigate_due_at: now,
        acknowledged_at: null,
        acknowledged_by: null,
        ack_implied: 0,
        mitigated_at: null,
        mitigated_by: null,
        mitigation_implied: 0,
        resolved_at: null,
        resolved_by: null,
        alert_count: 1,
        last_alert_at: now,
        reopen_count: 0,
        details: '{}',
        links: '[]',
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .compile();
    db.insertInto('incident_events')
      .values([{ incident_id: 1, at: now, actor: 'a', kind: 'opened', message: 'm', data: '{}' }])
      .compile();
    db.insertInto('alerts')
      .values({
        integration: 'pagerduty',
        dedup_key: key,
        action: 'trigger',
        title: 't',
        severity: 'sev2',
        source: 's',
        received_at: now,
        incident_id: 1,
        outcome: 'opened',
        delivery_key: null,
        payload: '{}',
      })
      .returning('id')
      .compile();
  };
  for (let i = 0; i < 2000; i++) once(i); // warm up
  const us = cpuUs(() => {
    for (let i = 0; i < N; i++) once(i);
  });
  void db.destroy();
  return { cpuUsPerAlert: Math.round((us / N) * 10) / 10 };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-sqlite-micro-'));
  try {
    const template = path.join(dir, 'template.db');
    const store = await openStore({ url: `sqlite:${template}` });
    await store.close();
    const results = [];
    for (const variant of ['kysely-like', 'cached', 'cached+literal', 'cached+merged'] as const) {
      const file = path.join(dir, `${variant}.db`);
      fs.copyFileSync(template, file);
      run(file, variant); // warm-up pass on its own file (JIT, page cache), then the measured pass on a fresh one
      fs.copyFileSync(template, file + '.2');
      results.push(run(file + '.2', variant));
    }
    const out = {
      alerts: N,
      perTransaction: BATCH,
      node: process.versions.node,
      results,
      kyselyBuildAndCompile: kyselyCompile(),
    };
    console.log(JSON.stringify(out, null, 2));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

/**
 * A real Prometheus Alertmanager (Debian package `prometheus-alertmanager`) pages Guardia over HTTP: alerts are
 * posted to Alertmanager's own API, Alertmanager groups them and calls Guardia's webhook receiver with its
 * http_config bearer token; Guardia opens a sev1 incident, and resolves it when Alertmanager sends the resolution.
 * Nothing here imitates Alertmanager: the payload, headers and timing are the real binary's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, TEST_ENV, type TestApp } from '../helpers/harness.js';

const INSTALL_HINT = 'install prometheus-alertmanager (apt-get install -y prometheus-alertmanager)';
const TOKEN = 'am-e2e-token-0123456789abcdef0123';

/** The binary: $ALERTMANAGER_BIN, the Debian path, or `prometheus-alertmanager`/`alertmanager` on PATH. */
function findAlertmanager(): string | undefined {
  const candidates = [process.env.ALERTMANAGER_BIN, '/usr/bin/prometheus-alertmanager'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    candidates.push(path.join(dir, 'prometheus-alertmanager'), path.join(dir, 'alertmanager'));
  }
  return candidates.find((c): c is string => {
    if (!c) return false;
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A port free right now (Alertmanager binds it a moment later). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 200 ms until it returns a value, or fails after `ms` with `what` and Alertmanager's log. */
async function waitFor<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined>,
  log: () => string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}; alertmanager log:\n${log().slice(-4000)}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a real Alertmanager pages Guardia', () => {
  const binary = findAlertmanager();
  let t: TestApp | undefined;
  let am: ChildProcess | undefined;
  let amURL = '';
  let dir = '';
  let amLog = '';

  beforeAll(async () => {
    if (!binary) return; // the test itself fails with the install hint
    // The real clock, so Alertmanager's timestamps and Guardia's agree.
    t = await startTestApp('sqlite', {
      env: { ...TEST_ENV, ALERTMANAGER_TOKEN: TOKEN },
      now: new Date().toISOString(),
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const guardiaPort = (t.app.server.address() as AddressInfo).port;

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-am-'));
    const config = path.join(dir, 'alertmanager.yml');
    fs.writeFileSync(
      config,
      [
        'route:',
        '  receiver: guardia',
        "  group_by: ['alertname']",
        '  group_wait: 1s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: guardia',
        '    webhook_configs:',
        `      - url: http://127.0.0.1:${guardiaPort}/hooks/alertmanager`,
        '        send_resolved: true',
        '        http_config:',
        '          authorization:',
        `            credentials: ${TOKEN}`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    amURL = `http://127.0.0.1:${port}`;
    am = spawn(
      binary,
      [
        `--config.file=${config}`,
        `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    am.stdout!.on('data', (d: Buffer) => (amLog += d.toString()));
    am.stderr!.on('data', (d: Buffer) => (amLog += d.toString()));
    await waitFor(
      'Alertmanager to be ready',
      15_000,
      async () => {
        if (am!.exitCode !== null) throw new Error(`alertmanager exited with ${am!.exitCode}:\n${amLog}`);
        const res = await fetch(`${amURL}/-/ready`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      () => amLog,
    );
  }, 30_000);

  afterAll(async () => {
    if (am && am.exitCode === null) {
      const exited = new Promise((resolve) => am!.once('exit', resolve));
      am.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (am.exitCode === null) am.kill('SIGKILL');
    }
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('firing alert → open sev1 incident; Alertmanager resolves it → incident resolved', async () => {
    if (!binary) throw new Error(`prometheus-alertmanager is not installed: ${INSTALL_HINT}`);
    const app = t!;
    const labels = {
      alertname: 'GuardiaE2EProbeFailure',
      severity: 'critical',
      instance: 'https://app.example.org',
      job: 'blackbox',
    };
    const startsAt = new Date(Date.now() - 10_000).toISOString();
    const postAlerts = async (alert: Record<string, unknown>) => {
      const res = await fetch(`${amURL}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([alert]),
      });
      expect(res.status, await res.text()).toBe(200);
    };
    const incidents = async (status: string) =>
      (
        await app.app.inject({
          method: 'GET',
          url: `/api/v1/incidents?status=${status}&limit=500`,
          headers: bearer(app.tokens.viewer),
        })
      ).json().incidents as {
        id: number;
        status: string;
        severity: string;
        integration: string;
        title: string;
        dedup_key: string;
      }[];

    await postAlerts({
      labels,
      annotations: { summary: 'Probe failing: https://app.example.org' },
      startsAt,
      generatorURL: 'http://prometheus.example.org/graph',
    });
    const open = await waitFor(
      'an open incident from Alertmanager',
      20_000,
      async () => (await incidents('open')).find((i) => i.integration === 'alertmanager'),
      () => amLog,
    );
    expect(open).toMatchObject({
      severity: 'sev1',
      status: 'triggered',
      title: 'Probe failing: https://app.example.org',
    });
    expect(open.dedup_key).toMatch(/^am:[0-9a-f]{16}$/);

    // The same alert with endsAt in the past: Alertmanager marks it resolved and sends the resolution.
    await postAlerts({
      labels,
      annotations: { summary: 'Probe failing: https://app.example.org' },
      startsAt,
      endsAt: new Date(Date.now() - 1000).toISOString(),
    });
    const resolved = await waitFor(
      'the incident to be resolved',
      20_000,
      async () => {
        const res = await app.app.inject({
          method: 'GET',
          url: `/api/v1/incidents/${open.id}`,
          headers: bearer(app.tokens.viewer),
        });
        const incident = res.json() as { status: string; resolved_by: string | null; alert_count: number };
        return incident.status === 'resolved' ? incident : undefined;
      },
      () => amLog,
    );
    expect(resolved).toMatchObject({ resolved_by: 'integration:alertmanager', alert_count: 1 });

    // What the real binary sent: payload v4, one firing then one resolved delivery of the same fingerprint.
    const rows = await app.services.store.db
      .selectFrom('alerts')
      .select(['action', 'outcome', 'delivery_key', 'payload'])
      .where('integration', '=', 'alertmanager')
      .orderBy('id')
      .execute();
    const fingerprint = open.dedup_key.slice('am:'.length);
    expect(rows.map((r) => [r.action, r.outcome])).toEqual([
      ['trigger', 'opened'],
      ['resolve', 'resolved'],
    ]);
    expect(rows[0]!.delivery_key).toMatch(new RegExp(`^${fingerprint}:firing:`));
    expect(rows[1]!.delivery_key).toMatch(new RegExp(`^${fingerprint}:resolved:`));
    expect(JSON.parse(rows[0]!.payload)).toMatchObject({
      version: '4',
      receiver: 'guardia',
      status: 'firing',
    });
  }, 45_000);
});

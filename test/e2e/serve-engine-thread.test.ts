/**
 * `guardia serve` runs its escalation engine on a second thread (src/engine/thread.ts). Through the real server
 * process: an alert's page reaches Slack, the HTTP thread and the engine thread write the one SQLite file side by
 * side, and SIGTERM stops both cleanly. Through `startEngineThread` with a stand-in script: a thread that dies is
 * reported, its write lock freed, and started again, so paging does not stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineThread } from '../../src/engine/thread.js';
import { newWriteLock } from '../../src/store/sqlite-write-lock.js';
import {
  cleanEnv,
  killChildren,
  serverCommand,
  sleep,
  startServer,
  stopServer,
  type ServerCommand,
} from '../helpers/crash.js';
import { startHttpSink, type HttpSink } from '../helpers/sinks.js';

const GENERIC_TOKEN = 'engine-thread-generic-token';

describe('guardia serve pages from its engine thread', () => {
  let dir: string;
  let command: ServerCommand;
  let slack: HttpSink;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-engine-thread-'));
    command = await serverCommand();
    slack = await startHttpSink();
  });
  afterAll(async () => {
    await killChildren();
    await slack.close();
    command.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('alerts in, pages out to Slack, every incident paged once; SIGTERM exits 0', async () => {
    const server = await startServer(
      command,
      dir,
      cleanEnv({
        GUARDIA_DATABASE_URL: `sqlite:${path.join(dir, 'g.db')}`,
        GUARDIA_DATA_DIR: dir,
        GUARDIA_PORT: '0',
        GENERIC_TOKEN,
        SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/XXXX`,
      }),
    );
    // 40 distinct critical alerts at once: the HTTP thread commits them while the engine thread pages.
    const keys = Array.from({ length: 40 }, (_, n) => `thread-${n}`);
    const answers = await Promise.all(
      keys.map((key) =>
        fetch(`${server.baseUrl}/hooks/generic`, {
          method: 'POST',
          headers: { authorization: `Bearer ${GENERIC_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `Checkout down ${key}`, dedup_key: key, severity: 'critical' }),
        }).then((res) => res.status),
      ),
    );
    expect(answers).toEqual(keys.map(() => 202));

    const paged = () => new Set(slack.requests.map((r) => /Checkout down (thread-\d+)/.exec(r.body)?.[1]));
    const until = Date.now() + 15_000;
    while (keys.some((k) => !paged().has(k)) && Date.now() < until) await sleep(50);
    expect(keys.filter((k) => !paged().has(k))).toEqual([]);
    expect(slack.requests.every((r) => r.url === '/services/T000/B000/XXXX')).toBe(true);

    expect(await stopServer(server)).toEqual({ code: 0, signal: null });
  });
});

describe('startEngineThread', () => {
  const STANDIN = path.join(
    path.dirname(fileURLToPath(import.meta.url)),
    '../helpers/engine-thread-standin.ts',
  );

  it('reports a thread that ended, frees the write lock it held, starts it again, and stops the new one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-engine-standin-'));
    const starts = path.join(dir, 'starts.log');
    const startLines = () => fs.readFileSync(starts, 'utf8').trim().split('\n');
    const writeLock = newWriteLock();
    const errors: string[] = [];
    try {
      const engine = await startEngineThread(
        {
          databaseUrl: starts, // the stand-in appends a line here each time it starts
          policyPath: undefined,
          logLevel: 'silent',
          secretKey: 'k',
          publicUrl: 'http://127.0.0.1:8080',
          writeLock,
        },
        { onError: (err) => errors.push(String(err)) },
        STANDIN,
      );
      expect(startLines()).toHaveLength(1);

      engine.wake(); // the stand-in takes the write lock and exits
      const until = Date.now() + 10_000;
      while (startLines().length < 2 && Date.now() < until) await sleep(50);
      expect(errors).toEqual([expect.stringContaining('the engine thread ended (exit code 3)')]);
      expect(startLines()).toHaveLength(2);
      expect(startLines()[0]).not.toBe(startLines()[1]); // a new thread
      expect(new Int32Array(writeLock)[0]).toBe(0); // the dead thread's lock was freed

      await engine.stop();
      expect(errors).toHaveLength(1); // the stop is not reported as a crash
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

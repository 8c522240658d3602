/**
 * `guardia serve` writes one SQLite file from two threads (HTTP and engine) through a shared write lock
 * (src/store/sqlite-write-lock.ts). These tests run real worker threads against a real file.
 */
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newWorker } from '../../src/shared/worker.js';
import { sleep, withTimeout } from '../helpers/crash.js';
import { openStore } from '../../src/store/db.js';
import { newWriteLock, releaseWriteLockOf, type WriteLockMemory } from '../../src/store/sqlite-write-lock.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers/write-lock-worker.ts');

function startWorker(data: {
  url: string;
  writeLock: WriteLockMemory;
  mode: string;
  rounds?: number;
  yieldWrites?: boolean;
  name?: string;
}): Worker {
  return newWorker(WORKER, { workerData: { rounds: 0, yieldWrites: false, name: '', ...data } });
}

function next(worker: Worker, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.on('message', (message) => (message === expected ? resolve() : undefined));
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`worker exited (${code}) before '${expected}'`)));
  });
}

function writers(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('select thread from writes order by id').all() as { thread: string }[]).map(
      (r) => r.thread,
    );
  } finally {
    db.close();
  }
}

describe('the SQLite write lock shared by threads', () => {
  let dir: string;
  let file: string;
  let url: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-write-lock-'));
    file = path.join(dir, 'guardia.db');
    url = `sqlite:${file}`;
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(
      'create table counter (id integer primary key, n integer not null); insert into counter values (1, 0);',
    );
    db.exec('create table writes (id integer primary key, thread text not null);');
    db.close();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('three threads read-then-write 300 times each: no increment lost, no SQLITE_BUSY', async () => {
    const writeLock = newWriteLock();
    const rounds = 300;
    const workers = [1, 2].map(() => startWorker({ url, writeLock, mode: 'count', rounds }));
    const done = workers.map((w) => next(w, 'done'));

    // This thread takes part too, with the same lock, as the HTTP thread does.
    const store = await openStore({ url, migrate: false, writeLock });
    for (let i = 0; i < rounds; i++) {
      await store.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ n: number }>`select n from counter where id = 1`.execute(trx);
        await sql`update counter set n = ${rows[0]!.n + 1} where id = 1`.execute(trx);
      });
      await sql`insert into writes (thread) values ('main')`.execute(store.db);
    }
    await Promise.all(done);

    const counter = await sql<{ n: number }>`select n from counter where id = 1`.execute(store.db);
    const writes = await sql<{ c: number }>`select count(*) as c from writes`.execute(store.db);
    await store.close();
    expect(counter.rows[0]!.n).toBe(3 * rounds);
    expect(writes.rows[0]!.c).toBe(3 * rounds);
    expect(new Int32Array(writeLock)[0]).toBe(0);
  });

  it('a thread that dies holding the lock is released, and its transaction never lands', async () => {
    const writeLock = newWriteLock();
    const worker = startWorker({ url, writeLock, mode: 'die-holding' });
    await next(worker, 'holding');
    expect(new Int32Array(writeLock)[0]).toBe(worker.threadId + 1);

    const threadId = worker.threadId;
    await worker.terminate();
    // What `guardia serve` does when its engine thread ends.
    releaseWriteLockOf(writeLock, threadId);
    expect(new Int32Array(writeLock)[0]).toBe(0);

    const store = await openStore({ url, migrate: false, writeLock });
    await store.db.transaction().execute(async (trx) => {
      await sql`update counter set n = n + 1 where id = 1`.execute(trx);
    });
    const counter = await sql<{ n: number }>`select n from counter where id = 1`.execute(store.db);
    await store.close();
    expect(counter.rows[0]!.n).toBe(1);
  });

  it('releasing for a thread that does not hold the lock leaves the holder alone', async () => {
    const writeLock = newWriteLock();
    const worker = startWorker({ url, writeLock, mode: 'die-holding' });
    await next(worker, 'holding');
    releaseWriteLockOf(writeLock, worker.threadId + 7);
    expect(new Int32Array(writeLock)[0]).toBe(worker.threadId + 1);
    await worker.terminate();
    releaseWriteLockOf(writeLock, worker.threadId);
  });

  it('waiting for a turn does not block the event loop, and the turn holds the lock across transactions', async () => {
    const writeLock = newWriteLock();
    const holder = startWorker({ url, writeLock, mode: 'hold', name: 'holder' });
    await next(holder, 'holding');
    const store = await openStore({ url, migrate: false, writeLock });
    const turn = store.writeTurn!();
    // The other thread holds the lock; this thread's timers still run meanwhile.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    await expect(withTimeout(turn, 60, 'a turn while another thread holds the lock')).rejects.toThrow(
      'timed out',
    );
    clearInterval(ticker);
    expect(ticks).toBeGreaterThanOrEqual(3);

    const holderDone = next(holder, 'done');
    holder.postMessage('release');
    const release = await turn;
    await holderDone;
    const me = new Int32Array(writeLock)[0];
    expect(me).not.toBe(0);
    // Re-entrant: transactions and single writes run under the turn, and leave the lock held until it ends.
    await store.db.transaction().execute(async (trx) => {
      await sql`insert into writes (thread) values ('turn-transaction')`.execute(trx);
    });
    await sql`insert into writes (thread) values ('turn-write')`.execute(store.db);
    expect(new Int32Array(writeLock)[0]).toBe(me);
    // Turns nest; releasing one twice must not give up the lock the other still holds.
    const inner = await store.writeTurn!();
    inner();
    inner();
    expect(new Int32Array(writeLock)[0]).toBe(me);
    release();
    expect(new Int32Array(writeLock)[0]).toBe(0);
    await store.close();
    expect(writers(file)).toEqual(['holder', 'turn-transaction', 'turn-write']);
  });

  it('a thread that yields writes after a waiting thread that does not, even when it asked first', async () => {
    const writeLock = newWriteLock();
    const holder = startWorker({ url, writeLock, mode: 'hold', name: 'holder' });
    await next(holder, 'holding');
    // The engine's side: it asks first and blocks in Atomics.wait, which wakes faster than an event loop does.
    const engine = startWorker({ url, writeLock, mode: 'write-once', yieldWrites: true, name: 'engine' });
    const engineWrote = next(engine, 'wrote');
    await next(engine, 'writing');
    await sleep(50);
    // The HTTP thread's side asks second, asynchronously.
    const store = await openStore({ url, migrate: false, writeLock });
    const turn = store.writeTurn!();
    holder.postMessage('release');
    const release = await turn;
    // While the HTTP thread holds its turn, the yielding thread is still waiting.
    await expect(withTimeout(engineWrote, 100, 'the yielding write')).rejects.toThrow('timed out');
    await sql`insert into writes (thread) values ('http')`.execute(store.db);
    release();
    await engineWrote;
    await store.close();
    expect(writers(file)).toEqual(['holder', 'http', 'engine']);
  });
});

/**
 * A worker thread for test/medium/sqlite-write-lock.test.ts: opens the shared SQLite file through `openStore` with
 * the shared write lock, as `guardia serve`'s engine thread does, and then, by `mode`:
 * - `count`: reads and increments a counter `rounds` times;
 * - `die-holding`: begins a transaction and never ends it (the test terminates the thread);
 * - `hold`: begins a transaction, says 'holding', and commits when told 'release';
 * - `write-once`: says 'writing', inserts one row named `name` outside any transaction, says 'wrote'.
 */
import { sql } from 'kysely';
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../src/store/db.js';
import type { WriteLockMemory } from '../../src/store/sqlite-write-lock.js';

const { url, writeLock, mode, rounds, yieldWrites, name } = workerData as {
  url: string;
  writeLock: WriteLockMemory;
  mode: 'count' | 'die-holding' | 'hold' | 'write-once';
  rounds: number;
  yieldWrites: boolean;
  name: string;
};
const store = await openStore({ url, migrate: false, writeLock, yieldWrites });
const port = parentPort!;

if (mode === 'count') {
  // Read, then write what was read plus one: without IMMEDIATE transactions and the lock, two threads doing this
  // lose increments or fail with SQLITE_BUSY.
  for (let i = 0; i < rounds; i++) {
    await store.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ n: number }>`select n from counter where id = 1`.execute(trx);
      await sql`update counter set n = ${rows[0]!.n + 1} where id = 1`.execute(trx);
    });
    // A write outside any transaction takes the lock for that one statement.
    await sql`insert into writes (thread) values (${mode})`.execute(store.db);
  }
  await store.close();
  port.postMessage('done');
} else if (mode === 'hold') {
  const released = new Promise<void>((resolve) => port.on('message', (m) => m === 'release' && resolve()));
  await store.db.transaction().execute(async (trx) => {
    await sql`insert into writes (thread) values (${name})`.execute(trx);
    port.postMessage('holding');
    await released;
  });
  await store.close();
  port.postMessage('done');
} else if (mode === 'write-once') {
  port.postMessage('writing');
  await sql`insert into writes (thread) values (${name})`.execute(store.db);
  await store.close();
  port.postMessage('wrote');
} else {
  await store.db.transaction().execute(async (trx) => {
    await sql`update counter set n = n + 1000 where id = 1`.execute(trx);
    port.postMessage('holding');
    await new Promise(() => undefined); // never commits: the test terminates this thread here
  });
}

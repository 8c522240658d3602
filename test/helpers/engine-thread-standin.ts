/**
 * Stands in for the engine thread in test/e2e/serve-engine-thread.test.ts: notes each start in the file named by
 * `databaseUrl`, says it is ready, "crashes" on `wake` while holding the SQLite write lock (exit code 3), and ends
 * cleanly on `stop`.
 */
import fs from 'node:fs';
import { parentPort, threadId, workerData } from 'node:worker_threads';

const { databaseUrl, writeLock } = workerData as { databaseUrl: string; writeLock: SharedArrayBuffer };
const port = parentPort!;
fs.appendFileSync(databaseUrl, `started ${threadId}\n`);
port.on('message', (message: unknown) => {
  if (message === 'wake') {
    Atomics.store(new Int32Array(writeLock), 0, threadId + 1); // what a thread inside a write transaction holds
    process.exit(3);
  }
  if (message === 'stop') port.close();
});
port.postMessage('ready');

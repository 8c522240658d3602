/**
 * Stands in for the engine thread in test/e2e/serve-engine-thread.test.ts: notes each start in the file named by
 * `databaseUrl`, says it is ready, "crashes" (exit code 3) on `wake`, and ends cleanly on `stop`.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort!;
fs.appendFileSync((workerData as { databaseUrl: string }).databaseUrl, 'started\n');
port.on('message', (message: unknown) => {
  if (message === 'wake') process.exit(3);
  if (message === 'stop') port.close();
});
port.postMessage('ready');

import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the script `entry`. Tests and `npm run dev` run the TypeScript sources through tsx, whose
 * loader hooks Node 20 does not hand on to worker threads, so for a `.ts` entry the worker registers tsx itself
 * first (tsx is a development dependency: the built `dist/` never takes this path).
 */
export function newWorker(entry: string, options: WorkerOptions): Worker {
  if (!/\.[cm]?ts$/.test(entry)) return new Worker(entry, options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const main = JSON.stringify(pathToFileURL(entry).href);
  return new Worker(`import(${tsx}).then((tsx) => tsx.register()).then(() => import(${main}));`, {
    ...options,
    eval: true,
  });
}

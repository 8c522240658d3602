/**
 * The escalation engine on its own thread. Taking alerts in and running escalation used to share one core: under
 * a storm each alert's page (timers, outbox, timeline) cost as much CPU as accepting it. On its own thread, with
 * its own store connection, the engine uses the second core and the HTTP thread only accepts.
 *
 * Nothing about the engine changes: it works from rows, claims them with leases (it was built for several
 * instances), and the HTTP thread wakes it after each commit with a message instead of a call. On SQLite both
 * threads write the same file, so they share a write lock (src/store/sqlite-write-lock.ts).
 *
 * The thread runs the same entry script as the process (`node dist/cli/main.js serve`, `npx guardia serve`, a
 * bundle, or tsx on the sources): main.ts sees it is not the main thread and calls `runEngineThread`.
 */
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import { newWorker } from '../shared/worker.js';
import { releaseWriteLockOf, type WriteLockMemory } from '../store/sqlite-write-lock.js';

/** What the engine thread needs to open its own store and services. */
export interface EngineThreadConfig {
  databaseUrl: string;
  policyPath: string | undefined;
  logLevel: string;
  secretKey: string;
  publicUrl: string;
  /** SQLite only. */
  writeLock: WriteLockMemory | undefined;
}

/** `guardiaEngineThread` marks the engine thread's data, so the entry script knows to run `runEngineThread`. */
interface ThreadData extends EngineThreadConfig {
  guardiaEngineThread: true;
}

/**
 * Whether this thread is `guardia serve`'s engine thread (main.ts asks before running the command line). This
 * module loads only node:worker_threads and two small modules up front, so every CLI run can afford to ask.
 */
export function isEngineThread(): boolean {
  return !isMainThread && (workerData as Partial<ThreadData> | null)?.guardiaEngineThread === true;
}

/** The running engine thread, from the HTTP thread's side. */
export interface EngineThread {
  /** Runs an engine cycle as soon as possible (after a commit that wrote engine work). */
  wake(): void;
  /** Stops the engine after its cycle in progress, closes its store, and ends the thread. */
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1_000;
const ENGINE_YOUNG_GENERATION_MB = 8;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Starts the engine thread and resolves once its engine runs. A thread that ends unexpectedly is reported to
 * `onError` and started again (paging must not stop); if it held the SQLite write lock, the lock is freed.
 */
export async function startEngineThread(
  config: EngineThreadConfig,
  hooks: { onError: (err: unknown) => void },
  entry: string = process.argv[1]!,
): Promise<EngineThread> {
  let stopping = false;
  // The thread being started or running (`stop` during a restart waits for it), and the one running now, if any.
  let current: Promise<Worker>;
  let running: Worker | undefined;

  const spawn = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const data: ThreadData = { ...config, guardiaEngineThread: true };
      // A small young generation: the engine's garbage is short-lived, and V8's default (up to 48 MB, sized for a
      // main thread) only added to the process's resident memory under a storm (measured: peak RSS −20 to −30 MB).
      const w = newWorker(entry, {
        workerData: data,
        resourceLimits: { maxYoungGenerationSizeMb: ENGINE_YOUNG_GENERATION_MB },
      });
      // Read now: a worker's threadId reads -1 once it has stopped, which is when the exit handler needs it.
      const threadId = w.threadId;
      let ready = false;
      w.on('message', (message: unknown) => {
        if (message === 'ready') {
          ready = true;
          running = w;
          resolve(w);
        }
      });
      w.on('error', (err) => {
        if (!ready) reject(err);
        else hooks.onError(err);
      });
      w.on('exit', (code) => {
        if (running === w) running = undefined;
        if (config.writeLock) releaseWriteLockOf(config.writeLock, threadId);
        if (!ready) {
          reject(new Error(`the engine thread ended before it started (exit code ${code})`));
          return;
        }
        if (stopping) return;
        hooks.onError(new Error(`the engine thread ended (exit code ${code}); starting it again`));
        restartLater();
      });
    });

  // Keeps trying, a second apart: a thread that cannot start now (the database is down) may start later.
  const restartLater = () =>
    setTimeout(() => {
      if (stopping) return;
      current = spawn();
      current.catch((err: unknown) => {
        hooks.onError(err);
        restartLater();
      });
    }, RESTART_DELAY_MS);

  current = spawn();
  await current;
  return {
    wake() {
      // Between a crash and the restart there is nobody to wake; a starting engine runs a cycle anyway.
      running?.postMessage('wake');
    },
    async stop() {
      stopping = true;
      await current.catch(() => undefined);
      const worker = running;
      if (!worker) return; // it had ended (crashed, and the restart is now cancelled)
      const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      const timeout = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
      await ended;
      clearTimeout(timeout);
    },
  };
}

/** The engine thread's side: open the store, run the engine, obey `wake` and `stop`. */
export async function runEngineThread(): Promise<void> {
  const config = workerData as ThreadData;
  const port = parentPort!;
  // Loaded here, not at the top: the HTTP thread imports this module only to start the thread.
  const [
    { loadPolicy },
    { Engine },
    { closeEmailTransports },
    { createServices },
    { createLogger },
    clock,
    db,
  ] = await Promise.all([
    import('../domain/policy/load.js'),
    import('./engine.js'),
    import('../notify/email.js'),
    import('../server/context.js'),
    import('../server/logger.js'),
    import('../shared/clock.js'),
    import('../store/db.js'),
  ]);
  const logger = createLogger(config.logLevel);
  const policy = loadPolicy({ path: config.policyPath });
  // The engine yields the SQLite write lock to the HTTP thread: under a storm, accepting alerts comes first.
  const store = await db.openStore({
    url: config.databaseUrl,
    migrate: false,
    writeLock: config.writeLock,
    yieldWrites: true,
  });
  const services = createServices(store, policy, clock.systemClock, process.env, {
    secretKey: config.secretKey,
    publicUrl: config.publicUrl,
  });
  const engine = new Engine(services, {
    onError: (err) => logger.error({ err }, 'escalation engine cycle failed'),
  });
  services.scheduler.onCommit(() => engine.wake());
  port.on('message', (message: unknown) => {
    if (message === 'wake') engine.wake();
    else if (message === 'stop') {
      void (async () => {
        await engine.stop();
        closeEmailTransports();
        await store.close();
        logger.flush();
        port.close();
      })();
    }
  });
  engine.start();
  port.postMessage('ready');
}

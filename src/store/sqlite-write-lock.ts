/**
 * One writer at a time across the threads of one process that share a SQLite file (the HTTP thread and the engine
 * thread of `guardia serve`). SQLite serializes writers itself, but a thread that finds the file locked sleeps in
 * SQLite's busy handler for 1, 2, 5… ms — longer than a Guardia transaction lasts — and a deferred transaction that
 * read first can fail outright when the other thread committed meanwhile. So write transactions begin IMMEDIATE,
 * and before that take this lock, a word in shared memory: the waiting thread wakes the moment the other commits.
 * Other processes (the CLI on the same file) still meet SQLite's busy timeout, as before.
 *
 * Under a storm the lock is busy all the time, and which thread gets it decides what falls behind. Accepting alerts
 * comes first: an alert not accepted may be lost by its sender, while a page written a few seconds late is only
 * late. So a thread can be opened to *yield* (the engine thread): it does not take the lock while a thread that
 * does not yield is waiting for it, and takes its turns in the gaps between the other's batches.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { threadId } from 'node:worker_threads';

/** The shared words: [0] the holder's threadId + 1, or 0 when free; [1] how many non-yielding threads wait. */
export type WriteLockMemory = SharedArrayBuffer;

const HOLDER = 0;
const FIRST_WAITING = 1;
/** Bounds each sleep; a holder that died is released by whoever saw it end (`releaseWriteLockOf`). */
const WAIT_BOUND_MS = 1_000;

/** Memory for a new lock; hand the same buffer to every thread's `openStore`. */
export function newWriteLock(): WriteLockMemory {
  return new SharedArrayBuffer(8);
}

/** Frees the lock if a thread that ended (a crashed worker) still held it, so the others do not wait forever. */
export function releaseWriteLockOf(memory: WriteLockMemory, deadThreadId: number): void {
  const words = new Int32Array(memory);
  if (Atomics.compareExchange(words, HOLDER, deadThreadId + 1, 0) === deadThreadId + 1)
    Atomics.notify(words, HOLDER);
}

type Statement = BetterSqlite3.Statement;

export interface WriteLockOptions {
  /** This thread's writes wait while a thread that does not yield is waiting (see the module comment). */
  yields?: boolean;
}

/** This thread's side of the lock. Re-entrant: a thread that holds it may take it again (counted). */
export interface WriteLockGuard {
  /** The SQL to prepare for what Kysely asked (`begin` becomes `begin immediate`). */
  sqlFor(sql: string): string;
  /** The statement Kysely gets: the prepared one, or a wrapper that takes and gives back the lock. */
  wrap(sql: string, statement: Statement): Statement;
  /**
   * Waits for the lock without blocking the event loop, and holds it until the returned function is called.
   * Transactions begun meanwhile on this thread run under it. The ingest path waits here, so the requests that
   * arrive while the other thread writes are parsed and join its next batch instead of waiting behind a block.
   */
  turn(): Promise<() => void>;
}

/**
 * Wraps this thread's prepared statements so that `begin` takes the lock (and begins IMMEDIATE), `commit` and
 * `rollback` give it back, and a write outside a transaction holds it for that one statement. Reads never wait.
 */
export function writeLockGuard(memory: WriteLockMemory, options: WriteLockOptions = {}): WriteLockGuard {
  const words = new Int32Array(memory);
  const me = threadId + 1;
  const yields = options.yields === true;
  /** How many times this thread holds the lock (a transaction inside a turn, a write inside a transaction). */
  let depth = 0;

  const firstWaits = (delta: 1 | -1) => {
    if (Atomics.add(words, FIRST_WAITING, delta) === 1 && delta === -1) Atomics.notify(words, FIRST_WAITING);
  };
  /**
   * Takes the free lock, yielding each sleep it needs (the word and the value seen there) to the caller, which
   * sleeps synchronously (`acquire`) or without blocking the event loop (`acquireAsync`).
   */
  function* waits(): Generator<{ index: number; value: number }, void> {
    if (!yields) firstWaits(1);
    try {
      for (;;) {
        const waiting = yields ? Atomics.load(words, FIRST_WAITING) : 0;
        if (waiting > 0) {
          yield { index: FIRST_WAITING, value: waiting };
          continue;
        }
        const holder = Atomics.compareExchange(words, HOLDER, 0, me);
        if (holder === 0) break;
        // Sleeps only while that same holder still has it (a release in between makes the wait return at once).
        yield { index: HOLDER, value: holder };
      }
      depth = 1;
    } finally {
      if (!yields) firstWaits(-1);
    }
  }
  // Held already (a write inside a transaction, a transaction inside a turn): only counted, no generator.
  const acquire = () => {
    if (depth > 0) return void depth++;
    for (const wait of waits()) Atomics.wait(words, wait.index, wait.value, WAIT_BOUND_MS);
  };
  const acquireAsync = async () => {
    if (depth > 0) return void depth++;
    for (const wait of waits()) await Atomics.waitAsync(words, wait.index, wait.value, WAIT_BOUND_MS).value;
  };
  const release = () => {
    if (depth === 0) return;
    if (--depth > 0) return;
    // Wakes every waiter: a thread may wait both synchronously and asynchronously, and waking only the
    // asynchronous one of a blocked thread would leave the other asleep until its bound.
    if (Atomics.compareExchange(words, HOLDER, me, 0) === me) Atomics.notify(words, HOLDER);
  };
  const locked = <T>(run: () => T): T => {
    acquire();
    try {
      return run();
    } finally {
      release();
    }
  };

  return {
    sqlFor: (sql) => (sql === 'begin' ? 'begin immediate' : sql),
    async turn() {
      await acquireAsync();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
    wrap(sql, statement) {
      if (sql === 'begin') {
        return wrapped(statement, {
          run: (...args) => {
            acquire();
            try {
              return statement.run(...args);
            } catch (err) {
              release();
              throw err;
            }
          },
        });
      }
      if (sql === 'commit') {
        // A failed commit keeps the lock: Kysely rolls back next, and that gives it back.
        return wrapped(statement, {
          run: (...args) => {
            const result = statement.run(...args);
            release();
            return result;
          },
        });
      }
      if (sql === 'rollback') {
        return wrapped(statement, {
          run: (...args) => {
            try {
              return statement.run(...args);
            } finally {
              release();
            }
          },
        });
      }
      if (statement.readonly) return statement;
      // Inside a transaction (or a turn) this thread already holds the lock: taking it again only counts.
      return wrapped(statement, {
        run: (...args) => locked(() => statement.run(...args)),
        all: (...args) => locked(() => statement.all(...args)),
      });
    },
  };
}

/** A statement whose `run` / `all` are replaced; `reader` (what Kysely reads) and the rest stay the original's. */
function wrapped(
  statement: Statement,
  overrides: { run?: Statement['run']; all?: Statement['all'] },
): Statement {
  return {
    reader: statement.reader,
    readonly: statement.readonly,
    source: statement.source,
    run: overrides.run ?? statement.run.bind(statement),
    all: overrides.all ?? statement.all.bind(statement),
    get: statement.get.bind(statement),
    iterate: statement.iterate.bind(statement),
  } as unknown as Statement;
}

/**
 * One writer at a time across the threads of one process that share a SQLite file (the HTTP thread and the engine
 * thread of `guardia serve`). SQLite serializes writers itself, but a thread that finds the file locked sleeps in
 * SQLite's busy handler for 1, 2, 5… ms — longer than a Guardia transaction lasts — and a deferred transaction that
 * read first can fail outright when the other thread committed meanwhile. So write transactions begin IMMEDIATE,
 * and before that take this lock, a word in shared memory: the waiting thread wakes the moment the other commits.
 * Other processes (the CLI on the same file) still meet SQLite's busy timeout, as before.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { threadId } from 'node:worker_threads';

/** The shared word: 0 when free, else the holder's threadId + 1. */
export type WriteLockMemory = SharedArrayBuffer;

/** Memory for a new lock; hand the same buffer to every thread's `openStore`. */
export function newWriteLock(): WriteLockMemory {
  return new SharedArrayBuffer(4);
}

/** Frees the lock if a thread that ended (a crashed worker) still held it, so the others do not wait forever. */
export function releaseWriteLockOf(memory: WriteLockMemory, deadThreadId: number): void {
  const word = new Int32Array(memory);
  if (Atomics.compareExchange(word, 0, deadThreadId + 1, 0) === deadThreadId + 1) Atomics.notify(word, 0);
}

type Statement = BetterSqlite3.Statement;

/**
 * Wraps this thread's prepared statements so that `begin` takes the lock (and begins IMMEDIATE), `commit` and
 * `rollback` give it back, and a write outside a transaction holds it for that one statement. Reads never wait.
 */
export function writeLockGuard(memory: WriteLockMemory) {
  const word = new Int32Array(memory);
  const me = threadId + 1;
  let inTransaction = false;

  const acquire = () => {
    for (;;) {
      const holder = Atomics.compareExchange(word, 0, 0, me);
      if (holder === 0) return;
      // Sleeps only while that same holder still has it (a release in between makes the wait return at once).
      // The timeout only bounds each wait; a holder that died is released by whoever saw it end.
      Atomics.wait(word, 0, holder, 1_000);
    }
  };
  const release = () => {
    if (Atomics.compareExchange(word, 0, me, 0) === me) Atomics.notify(word, 0, 1);
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
    /** The SQL to prepare for what Kysely asked (`begin` becomes `begin immediate`). */
    sqlFor: (sql: string) => (sql === 'begin' ? 'begin immediate' : sql),
    /** The statement Kysely gets: the prepared one, or a wrapper that takes and gives back the lock. */
    wrap(sql: string, statement: Statement): Statement {
      if (sql === 'begin') {
        return wrapped(statement, {
          run: (...args) => {
            acquire();
            try {
              const result = statement.run(...args);
              inTransaction = true;
              return result;
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
            inTransaction = false;
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
              inTransaction = false;
              release();
            }
          },
        });
      }
      if (statement.readonly) return statement;
      return wrapped(statement, {
        run: (...args) => (inTransaction ? statement.run(...args) : locked(() => statement.run(...args))),
        all: (...args) => (inTransaction ? statement.all(...args) : locked(() => statement.all(...args))),
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

/**
 * PostgreSQL drops a connection while Guardia holds it (a restart, a failover, an admin terminating backends)
 * between the statements of a transaction. node-postgres then emits 'error' on a client that is out of the pool;
 * without a listener that is an uncaught exception and the whole process dies (found by the PostgreSQL restart
 * chaos test, test/chaos/pg-restart.test.ts). The transaction must fail as a 503 store_unavailable instead, and the
 * store must keep working on fresh connections. Only this test's own backend is terminated.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGuardiaError } from '../../src/server/errors.js';
import { openTestStore, PG_URL, type TestStore } from '../helpers/harness.js';

describe('a PostgreSQL connection lost mid-transaction', () => {
  let s: TestStore;
  let admin: pg.Client;
  beforeAll(async () => {
    s = await openTestStore('postgres');
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await s?.cleanup();
  });

  it('fails that transaction (503), does not crash the process, and the store recovers', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      let failure: unknown;
      try {
        await s.store.db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
          // The 'error' event arrives now, while the client is checked out and idle between statements.
          await new Promise((r) => setTimeout(r, 300));
          await sql`select 1`.execute(trx);
        });
      } catch (err) {
        failure = err;
      }
      expect(failure).toBeDefined();
      expect(toGuardiaError(failure).code).toBe('store_unavailable');
      expect(uncaught).toEqual([]);
      // Fresh connections replace the broken one.
      for (let i = 0; i < 12; i++)
        expect((await sql<{ one: number }>`select 1 as one`.execute(s.store.db)).rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

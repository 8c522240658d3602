// 0008: the reopen lookup's index (dedup key, resolved_at) now holds resolved incidents only. An alert storm opens
// thousands of incidents a second, and each paid for an entry in it at a random place that no query reads: open
// incidents are found through incidents_open_dedup, and only resolved ones are looked up here.
import { sql, type Kysely } from 'kysely';
import type { Dialect } from './helpers.js';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.dropIndex('incidents_dedup_resolved').execute();
  // The lookup names status = 'resolved' as a literal, which is what lets SQLite use a partial index.
  await sql`create index incidents_resolved_dedup on incidents (dedup_key, resolved_at) where status = 'resolved'`.execute(
    db,
  );
}

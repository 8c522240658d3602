/**
 * ExternalRefs over the `channel_refs` table: which provider object (e.g. GitHub issue number) belongs to a key
 * (a failing workflow's dedup key) on a channel. Written the dialect-neutral way — update, and insert when no row
 * was there — so SQLite and PostgreSQL behave alike, including when two deliveries race to create the row.
 */
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../store/db.js';
import type { Clock } from '../shared/clock.js';
import { cleanText } from '../shared/text.js';
import type { Database } from '../store/schema.js';
import type { ExternalRefs } from './channel.js';
import { isoString } from '../shared/iso-time.js';

export class StoreRefs implements ExternalRefs {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async get(channel: string, key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('channel_refs')
      .select('ref')
      .where('channel', '=', channel)
      .where('key', '=', cleanText(key))
      .executeTakeFirst();
    return row && row.ref !== '' ? row.ref : undefined;
  }

  async set(channel: string, key: string, ref: string): Promise<void> {
    const values = { ref: cleanText(ref), updated_at: isoString(this.clock.now()) };
    if (await this.update(channel, key, values)) return;
    try {
      await this.db
        .insertInto('channel_refs')
        .values({ channel, key: cleanText(key), ...values })
        .execute();
    } catch (err) {
      // Another delivery inserted the row between our update and insert: ours is the newer value.
      if (!isUniqueViolation(err)) throw err;
      await this.update(channel, key, values);
    }
  }

  async delete(channel: string, key: string): Promise<void> {
    await this.db
      .deleteFrom('channel_refs')
      .where('channel', '=', channel)
      .where('key', '=', cleanText(key))
      .execute();
  }

  private async update(
    channel: string,
    key: string,
    values: { ref: string; updated_at: string },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('channel_refs')
      .set(values)
      .where('channel', '=', channel)
      .where('key', '=', cleanText(key))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

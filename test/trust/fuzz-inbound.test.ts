/**
 * Hostile input on every inbound endpoint (see fuzz-inbound.ts for what is sent and how each door is authenticated),
 * bounded (`npm run test:trust`): a fixed seed, 120 inputs per endpoint on SQLite and 50 on PostgreSQL (FUZZ_RUNS and
 * FUZZ_SEED override both). No 5xx, /healthz answers, no prototype polluted, heap growth after gc bounded. Prints
 * the inputs per endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/store/db.js';
import { FUZZ_SEED, FuzzTally, fuzzRuns, gcFunction, settledHeapMb } from './fuzz-kit.js';
import { fuzzInbound } from './fuzz-inbound.js';

/** Runs per endpoint on each store: SQLite is the default store, PostgreSQL adds NUL and encoding rules. */
const RUNS: Record<Dialect, number> = { sqlite: fuzzRuns(120), postgres: fuzzRuns(50) };

describe('fuzzing every inbound endpoint', () => {
  const gc = gcFunction();
  let heapBeforeMb = 0;
  const tallies: Partial<Record<Dialect, FuzzTally>> = {};
  beforeAll(async () => {
    heapBeforeMb = await settledHeapMb(gc);
  });
  afterAll(() => {
    for (const [dialect, tally] of Object.entries(tallies))
      console.log(
        tally.table(
          `Inbound fuzzing on ${dialect} (seed ${FUZZ_SEED}, ${RUNS[dialect as Dialect]} runs per endpoint)`,
        ),
      );
  });

  it.each(['sqlite', 'postgres'] as Dialect[])(
    'on %s: no 5xx, /healthz answers, no prototype polluted',
    async (dialect) => {
      const tally = (tallies[dialect] = new FuzzTally());
      await fuzzInbound(dialect, RUNS[dialect], FUZZ_SEED, tally);
      expect(tally.fiveHundreds()).toBe(0);
    },
    600_000,
  );

  it('heap growth stays bounded after every run', async () => {
    const grownMb = (await settledHeapMb(gc)) - heapBeforeMb;
    console.log(`heap growth after fuzzing (after gc): ${grownMb.toFixed(1)} MB`);
    expect(grownMb).toBeLessThan(128);
  });
});

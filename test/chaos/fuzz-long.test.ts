/**
 * `npm run test:chaos`: the hostile-input fuzzing of test/trust/ with many more inputs and a fresh seed each run
 * (GUARDIA_CHAOS_SEED or FUZZ_SEED replays one): every inbound endpoint 1,000 times on SQLite and 300 times on
 * PostgreSQL (GUARDIA_CHAOS_FUZZ_RUNS changes the SQLite count), the policy parser on 2,000 arbitrary texts and 600 mutated default policies. A failure prints the
 * seed, the input (saved whole in the temp directory) and the server's error log.
 */
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/store/db.js';
import { FuzzTally, gcFunction, settledHeapMb } from '../trust/fuzz-kit.js';
import { fuzzInbound } from '../trust/fuzz-inbound.js';
import { fuzzPolicyArbitrary, fuzzPolicyMutated, type PolicyFuzzCounts } from '../trust/fuzz-policy.js';
import { recordChaos } from './stats.js';

const SEED = Number(process.env.FUZZ_SEED ?? process.env.GUARDIA_CHAOS_SEED ?? Date.now() % 2_147_483_647);
/** GUARDIA_CHAOS_FUZZ_RUNS sets the SQLite count (PostgreSQL gets 30 % of it): `.ci/run` uses a shorter run. */
const SQLITE_RUNS = Number(process.env.GUARDIA_CHAOS_FUZZ_RUNS) || 1000;
const RUNS: Record<Dialect, number> = {
  sqlite: SQLITE_RUNS,
  postgres: Math.max(50, Math.round(SQLITE_RUNS * 0.3)),
};

describe(`long fuzzing (seed ${SEED})`, () => {
  it.each(['sqlite', 'postgres'] as Dialect[])(
    'every inbound endpoint on %s: no 5xx, /healthz answers, no prototype polluted, heap bounded',
    async (dialect) => {
      const gc = gcFunction();
      const heapBeforeMb = await settledHeapMb(gc);
      const tally = new FuzzTally();
      const started = Date.now();
      try {
        await fuzzInbound(dialect, RUNS[dialect], SEED, tally);
      } finally {
        console.log(
          tally.table(`Inbound fuzzing on ${dialect} (seed ${SEED}, ${RUNS[dialect]} runs per endpoint)`),
        );
      }
      // Measured once the app is closed and its sockets and files are gone: what stays is what leaked.
      const grownMb = (await settledHeapMb(gc)) - heapBeforeMb;
      recordChaos(`fuzz-inbound-${dialect}`, {
        seed: SEED,
        endpoints: tally.rows.size,
        inputs: tally.total(),
        five_hundreds: tally.fiveHundreds(),
        heap_growth_mb: Math.round(grownMb * 10) / 10,
        seconds: Math.round((Date.now() - started) / 1000),
      });
      expect(tally.fiveHundreds()).toBe(0);
      expect(grownMb).toBeLessThan(128);
    },
    900_000,
  );

  it('the policy parser: never throws, every problem has line ≥ 1 and col ≥ 1', () => {
    const counts: PolicyFuzzCounts = { arbitrary: 0, mutated: 0, valid: 0, problems: 0 };
    fuzzPolicyArbitrary(2000, SEED, counts);
    fuzzPolicyMutated(600, SEED, counts);
    recordChaos('fuzz-policy', { seed: SEED, ...counts });
  }, 600_000);
});

/**
 * The policy parser on hostile text (see fuzz-policy.ts), bounded (`npm run test:trust`): a fixed seed, 150 arbitrary
 * texts and 100 mutated default policies (FUZZ_RUNS and FUZZ_SEED override both).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';
import { parsePolicyText } from '../../src/domain/policy/load.js';
import { FUZZ_SEED, fuzzRuns } from './fuzz-kit.js';
import { fuzzPolicyArbitrary, fuzzPolicyMutated, type PolicyFuzzCounts } from './fuzz-policy.js';

/** A mutated default policy takes ~30 ms to check (YAML + schema + problem mapping): fewer of those. */
const ARBITRARY_RUNS = fuzzRuns(150);
const MUTATED_RUNS = fuzzRuns(100);

describe('policy parser fuzzing', () => {
  const counts: PolicyFuzzCounts = { arbitrary: 0, mutated: 0, valid: 0, problems: 0 };

  it('the default policy parses with no problem (the baseline the mutations start from)', () => {
    expect(parsePolicyText(DEFAULT_POLICY_YAML, 'fuzz.yaml').problems).toEqual([]);
  });

  it('aliases to no anchor and alias bombs are problems with a place, not exceptions', () => {
    let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 12; i++)
      bomb += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const cases: [string, RegExp, number][] = [
      ['*nope', /alias \*nope refers to no anchor/, 1],
      ['version: 1\nroles: *later\nx: &later []\n', /alias \*later refers to no anchor/, 2],
      [bomb, /aliases cannot be expanded/, 2],
    ];
    for (const [text, message, line] of cases) {
      const { policy, problems } = parsePolicyText(text, 'alias.yaml');
      expect(policy).toBeUndefined();
      expect(problems[0]).toMatchObject({
        file: 'alias.yaml',
        line,
        message: expect.stringMatching(message),
      });
    }
  });

  it('arbitrary text: never throws, every problem has line ≥ 1 and col ≥ 1', () => {
    fuzzPolicyArbitrary(ARBITRARY_RUNS, FUZZ_SEED, counts);
  });

  it('the default policy mutated: never throws, every problem has line ≥ 1 and col ≥ 1', () => {
    fuzzPolicyMutated(MUTATED_RUNS, FUZZ_SEED, counts);
    console.log(
      `policy parser fuzzing (seed ${FUZZ_SEED}): ${counts.arbitrary} arbitrary texts + ${counts.mutated} mutated default policies; ${counts.valid} still valid, ${counts.problems} problems checked`,
    );
  }, 120_000);
});

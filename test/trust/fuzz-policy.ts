/**
 * The policy parser on hostile text (fast-check, fixed seed): arbitrary strings and the default policy mutated —
 * lines deleted, duplicated, swapped, re-indented, truncated, values replaced by YAML oddities (anchors, aliases,
 * tags, merge keys, flow collections, tabs, NUL, huge numbers). `parsePolicyText` never throws and every problem
 * points at a real place: line ≥ 1, col ≥ 1, within the file, with a message. Used by
 * test/trust/fuzz-policy.test.ts (npm run test:trust) and test/chaos/fuzz-long.test.ts (npm run test:chaos).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';
import { parsePolicyText } from '../../src/domain/policy/load.js';

export interface PolicyFuzzCounts {
  arbitrary: number;
  mutated: number;
  valid: number;
  problems: number;
}

const TOKENS = [
  '',
  ' ',
  '\t',
  '~',
  'null',
  '[]',
  '{}',
  '[',
  '{',
  '}',
  ']',
  "'",
  '"',
  '"unterminated',
  '&a',
  '*a',
  '*nope',
  '<<: *a',
  '!!binary aGVsbG8=',
  '!!js/function "x"',
  '!custom',
  '? complex',
  '- item',
  '--- ',
  '...',
  '%YAML 1.1',
  '|',
  '>-',
  '#',
  ':',
  ': :',
  '0x1F',
  '1e400',
  '-.inf',
  '9007199254740993',
  '2026-13-45',
  'sev9',
  '${NOT_CLOSED',
  '${}',
  'plain-secret-value',
  '__proto__',
  'constructor: {prototype: {polluted: yes}}',
  '\u0000',
  '\ud800',
  '\ufeff',
  '\u2028',
  'x'.repeat(5000),
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
];

type LineOp =
  | { op: 'delete'; line: number }
  | { op: 'duplicate'; line: number }
  | { op: 'swap'; line: number; other: number }
  | { op: 'insert'; line: number; col: number; token: string }
  | { op: 'value'; line: number; token: string }
  | { op: 'indent'; line: number; by: number }
  | { op: 'truncate'; at: number };

const token = fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 20 }));
const lineOp: fc.Arbitrary<LineOp> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), line: fc.nat(), col: fc.nat(), token }),
  fc.record({ op: fc.constant('value' as const), line: fc.nat(), token }),
  fc.record({ op: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutatePolicy(ops: LineOp[]): string {
  let lines = DEFAULT_POLICY_YAML.split('\n');
  for (const o of ops) {
    if (lines.length === 0) break;
    if (o.op === 'truncate') {
      const text = lines.join('\n');
      lines = text.slice(0, o.at % (text.length + 1)).split('\n');
      continue;
    }
    const i = o.line % lines.length;
    const line = lines[i]!;
    switch (o.op) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'duplicate':
        lines.splice(i, 0, line);
        break;
      case 'swap': {
        const j = o.other % lines.length;
        [lines[i], lines[j]] = [lines[j]!, line];
        break;
      }
      case 'insert': {
        const c = o.col % (line.length + 1);
        lines[i] = line.slice(0, c) + o.token + line.slice(c);
        break;
      }
      case 'value': {
        const colon = line.indexOf(': ');
        lines[i] = colon >= 0 ? `${line.slice(0, colon + 2)}${o.token}` : `${line}${o.token}`;
        break;
      }
      case 'indent':
        lines[i] = o.by >= 0 ? ' '.repeat(o.by) + line : line.replace(new RegExp(`^ {0,${-o.by}}`), '');
        break;
    }
  }
  return lines.join('\n');
}

function check(text: string, counts: PolicyFuzzCounts): void {
  let result: ReturnType<typeof parsePolicyText>;
  try {
    result = parsePolicyText(text, 'fuzz.yaml');
  } catch (err) {
    throw new Error(`parsePolicyText threw ${String(err)} on ${JSON.stringify(text.slice(0, 500))}`, {
      cause: err,
    });
  }
  const lineCount = text.split(/\r\n|\r|\n/).length;
  if (result.policy) {
    counts.valid++;
    expect(result.problems).toEqual([]);
    return;
  }
  expect(result.problems.length, 'no policy and no problem').toBeGreaterThan(0);
  for (const p of result.problems) {
    counts.problems++;
    const where = `${p.file}:${p.line}:${p.col}: ${p.message}`;
    expect(Number.isInteger(p.line) && p.line >= 1, where).toBe(true);
    expect(Number.isInteger(p.col) && p.col >= 1, where).toBe(true);
    expect(p.line, where).toBeLessThanOrEqual(lineCount + 1);
    expect(p.file).toBe('fuzz.yaml');
    expect(typeof p.message === 'string' && p.message.length > 0, where).toBe(true);
  }
}

/** Arbitrary texts: never throws, every problem has line ≥ 1 and col ≥ 1. */
export function fuzzPolicyArbitrary(runs: number, seed: number, counts: PolicyFuzzCounts): void {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.array(token, { maxLength: 30 }).map((t) => t.join('\n')),
        fc
          .array(fc.tuple(fc.nat({ max: 6 }), token, token), { maxLength: 20 })
          .map((rows) => rows.map(([indent, k, v]) => `${' '.repeat(indent)}${k}: ${v}`).join('\n')),
      ),
      (text) => {
        counts.arbitrary++;
        check(text, counts);
      },
    ),
    { seed, numRuns: runs },
  );
}

/** The default policy mutated: never throws, every problem has line ≥ 1 and col ≥ 1. */
export function fuzzPolicyMutated(runs: number, seed: number, counts: PolicyFuzzCounts): void {
  fc.assert(
    fc.property(fc.array(lineOp, { minLength: 1, maxLength: 6 }), (ops) => {
      counts.mutated++;
      check(mutatePolicy(ops), counts);
    }),
    { seed, numRuns: runs },
  );
}

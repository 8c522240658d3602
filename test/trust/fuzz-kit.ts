/**
 * Hostile-input generators for the trust tests (fast-check): arbitrary JSON, provider fixtures with fields
 * replaced, deleted or given `__proto__` / `constructor` / `prototype` keys, deeply nested JSON as raw text,
 * huge strings, NUL and lone surrogates, invalid UTF-8 bytes, and wrong content types. Each input says which
 * kind it is, so a run can count what it sent.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/integrations');

/** The seed every property uses (FUZZ_SEED overrides it; printed in the summary and by fast-check on failure). */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261127);

/** Runs per endpoint: FUZZ_RUNS overrides the default (npm run test:chaos runs more). */
export function fuzzRuns(fallback: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export interface FixtureRequest {
  headers: Record<string, string>;
  body: unknown;
}

export function fixture(name: string): FixtureRequest {
  const json = JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as {
    request: { headers?: Record<string, string>; body: unknown };
  };
  return { headers: json.request.headers ?? {}, body: json.request.body };
}

export interface HostileBody {
  kind: string;
  bytes: Buffer;
  contentType: string;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
/** A marker replaced in the JSON text by a real `"__proto__"` key (an object literal cannot hold one as data). */
const KEY_MARK = (i: number) => `\u0001KEY${i}\u0001`;
const DEEP_MARK = '\u0001DEEP\u0001';

/** Values that break naive code: wrong types, extremes, NUL, lone surrogates, markup, SQL, dates that are not. */
const specialValue = fc.constantFrom<unknown>(
  null,
  true,
  0,
  -1,
  1e308,
  -1e-308,
  Number.MAX_SAFE_INTEGER + 2,
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u200b\ufeff',
  '<script>alert(1)</script>',
  "'; DROP TABLE incidents; --",
  '%_\\',
  '\r\nBcc: evil@example.com',
  '<!channel> <!here> <@U0000LEAD>',
  'javascript:alert(1)',
  '2026-99-99T99:99:99Z',
  '9999-12-31T23:59:59Z',
  '0000-01-01T00:00:00Z',
  '../../../../etc/passwd',
  '${GENERIC_TOKEN}',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  [],
  {},
  [[[]]],
  { __hostile: true },
  'x'.repeat(10_000),
);

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: specialValue },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  { weight: 1, arbitrary: fc.integer() },
);

type PathSeg = string | number;

/** Every path in a JSON value (containers too), root excluded. */
function paths(value: unknown, prefix: PathSeg[] = [], out: PathSeg[][] = []): PathSeg[][] {
  if (Array.isArray(value))
    value.forEach((v, i) => {
      out.push([...prefix, i]);
      paths(v, [...prefix, i], out);
    });
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      paths(v, [...prefix, k], out);
    }
  return out;
}

function parentOf(root: unknown, p: PathSeg[]): Record<string | number, unknown> | undefined {
  let cur: unknown = root;
  for (const seg of p.slice(0, -1)) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur && typeof cur === 'object' ? (cur as Record<string | number, unknown>) : undefined;
}

type Mutation =
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'protoKey'; at: number; key: (typeof PROTO_KEYS)[number]; value: unknown }
  | { op: 'deep'; at: number; depth: number }
  | { op: 'huge'; at: number; size: number }
  | { op: 'splice'; at: number; pos: number; text: string };

/** Spliced into a string the template already has (the field stays a string, so it reaches the store). */
const SPLICES = ['\u0000', '\ud800', '\udc00x', '\r\n', '<script>', "'", '%', '_', '\\', '\u2028', '\ufeff'];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('splice' as const),
      at: fc.nat(),
      pos: fc.nat(),
      text: fc.constantFrom(...SPLICES),
    }),
  },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: valueArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('protoKey' as const),
      at: fc.nat(),
      key: fc.constantFrom(...PROTO_KEYS),
      value: fc.constantFrom<unknown>({ polluted: 'yes' }, { prototype: { polluted: 'yes' } }, 'yes', null),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('deep' as const),
      at: fc.nat(),
      depth: fc.constantFrom(100, 10_000),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('huge' as const),
      at: fc.nat(),
      size: fc.constantFrom(70_000, 1_100_000),
    }),
  },
);

export function deepJson(depth: number, shape: 'array' | 'object'): string {
  return shape === 'array'
    ? '['.repeat(depth) + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Applies mutations to a copy of `base` and returns the JSON text (with real proto keys and deep parts spliced in). */
export function mutate(base: unknown, mutations: Mutation[]): string {
  const root = structuredClone(base);
  const keys: string[] = [];
  let deep: string | undefined;
  for (const m of mutations) {
    if (m.op === 'splice') {
      const strings = paths(root).filter((p) => typeof parentOf(root, p)?.[p[p.length - 1]!] === 'string');
      if (strings.length === 0) continue;
      const p = strings[m.at % strings.length]!;
      const parent = parentOf(root, p)!;
      const value = parent[p[p.length - 1]!] as string;
      const at = m.pos % (value.length + 1);
      parent[p[p.length - 1]!] = value.slice(0, at) + m.text + value.slice(at);
      continue;
    }
    const all = paths(root);
    if (all.length === 0) break;
    const p = all[m.at % all.length]!;
    const parent = parentOf(root, p);
    if (!parent) continue;
    const last = p[p.length - 1]!;
    switch (m.op) {
      case 'replace':
        parent[last] = structuredClone(m.value);
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(last as number, 1);
        else delete parent[last];
        break;
      case 'protoKey': {
        const target =
          parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last])
            ? parent[last]
            : parent;
        if (Array.isArray(target)) break;
        (target as Record<string, unknown>)[KEY_MARK(keys.length)] = structuredClone(m.value);
        keys.push(m.key);
        break;
      }
      case 'deep':
        if (deep === undefined) {
          deep = deepJson(m.depth, m.at % 2 ? 'array' : 'object');
          parent[last] = DEEP_MARK;
        }
        break;
      case 'huge':
        parent[last] = 'H'.repeat(m.size);
        break;
    }
  }
  let text = JSON.stringify(root) ?? 'null';
  keys.forEach((key, i) => {
    text = text.replace(JSON.stringify(KEY_MARK(i)), JSON.stringify(key));
  });
  if (deep !== undefined) text = text.replace(JSON.stringify(DEEP_MARK), deep);
  return text;
}

/** Splices invalid UTF-8 sequences (and NUL) into bytes at pseudo-random places. */
const BAD_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80], // overlong NUL
  [0xed, 0xa0, 0x80], // encoded surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xe2, 0x82], // truncated
  [0x00],
  [0x80],
];

export function spliceBadBytes(text: string, positions: number[]): Buffer {
  const bytes = [...Buffer.from(text, 'utf8')];
  positions.forEach((pos, i) => {
    bytes.splice(pos % (bytes.length + 1), 0, ...BAD_UTF8[i % BAD_UTF8.length]!);
  });
  return Buffer.from(bytes);
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
const WRONG_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/xml',
  'application/json; charset=utf-16',
  'application/octet-stream',
  'application/vnd.api+json',
  ';;;',
  'a/b/c; x="',
  '',
];

export const contentTypeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...JSON_TYPES) },
  { weight: 2, arbitrary: fc.constantFrom(...WRONG_TYPES) },
);

/**
 * Hostile bodies around a template (a provider fixture or a valid API body): the template mutated (most runs, so
 * the parser goes deep), arbitrary JSON, deep nesting, proto keys at the top, huge strings, raw and spliced bytes.
 * `text` turns the JSON text into the wire text (e.g. Slack's form encoding).
 */
export function hostileBody(
  template: unknown,
  text: (json: string) => string = (j) => j,
): fc.Arbitrary<HostileBody> {
  const withType = (kind: string, bytes: fc.Arbitrary<Buffer>) =>
    fc.tuple(bytes, contentTypeArb).map(([b, contentType]): HostileBody => ({ kind, bytes: b, contentType }));
  const enc = (s: string) => Buffer.from(text(s), 'utf8');
  return fc.oneof(
    {
      weight: 10,
      arbitrary: withType(
        'fixture-mutated',
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }).map((m) => enc(mutate(template, m))),
      ),
    },
    {
      weight: 4,
      arbitrary: withType(
        'arbitrary-json',
        fc.jsonValue({ maxDepth: 6 }).map((v) => enc(JSON.stringify(v) ?? 'null')),
      ),
    },
    {
      weight: 1,
      arbitrary: withType(
        'deep-10000',
        fc.constantFrom<'array' | 'object'>('array', 'object').map((s) => enc(deepJson(10_000, s))),
      ),
    },
    {
      weight: 2,
      arbitrary: withType(
        'proto-keys',
        fc.constantFrom(...PROTO_KEYS).map((k) => {
          const base = JSON.stringify(template);
          const inject = `${JSON.stringify(k)}:{"polluted":"yes","prototype":{"polluted":"yes"}},`;
          return enc(
            base.startsWith('{') && base.length > 2 ? `{${inject}${base.slice(1)}` : `{${inject}"x":1}`,
          );
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: withType(
        'huge-string',
        fc
          .constantFrom(300_000, 1_100_000, 4_300_000)
          .map((n) => enc(JSON.stringify({ title: 'T'.repeat(n), x: 'y' }))),
      ),
    },
    {
      weight: 2,
      arbitrary: withType(
        'invalid-utf8',
        fc
          .tuple(fc.array(mutationArb, { maxLength: 2 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }))
          .map(([m, pos]) => spliceBadBytes(text(mutate(template, m)), pos)),
      ),
    },
    {
      weight: 1,
      arbitrary: withType(
        'random-bytes',
        fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
      ),
    },
    { weight: 1, arbitrary: withType('empty', fc.constant(Buffer.alloc(0))) },
  );
}

/** `global.gc` without starting node with --expose-gc. */
export function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Heap in use once closed apps are really gone (their sockets and files close asynchronously), in MB. */
export async function settledHeapMb(gc: () => void): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** A snapshot of what a prototype-pollution attack would change. */
export function prototypeSnapshot(): string {
  const names = (o: object) => Object.getOwnPropertyNames(o).sort().join(',');
  return [
    names(Object.prototype),
    names(Array.prototype),
    names(Function.prototype),
    names(String.prototype),
  ].join('|');
}

export function hmacHex(secret: string, ...parts: (string | Buffer)[]): string {
  const h = crypto.createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Counts by endpoint and kind, for the summary table. */
export class FuzzTally {
  readonly rows = new Map<
    string,
    { total: number; statuses: Map<number, number>; kinds: Map<string, number> }
  >();

  add(endpoint: string, kind: string, status: number): void {
    let row = this.rows.get(endpoint);
    if (!row) this.rows.set(endpoint, (row = { total: 0, statuses: new Map(), kinds: new Map() }));
    row.total++;
    row.statuses.set(status, (row.statuses.get(status) ?? 0) + 1);
    row.kinds.set(kind, (row.kinds.get(kind) ?? 0) + 1);
  }

  total(): number {
    return [...this.rows.values()].reduce((n, r) => n + r.total, 0);
  }

  fiveHundreds(): number {
    let n = 0;
    for (const r of this.rows.values()) for (const [s, c] of r.statuses) if (s >= 500) n += c;
    return n;
  }

  table(title: string): string {
    const lines = [
      `\n${title}`,
      '| endpoint | inputs | 5xx | statuses | kinds |',
      '| --- | ---: | ---: | --- | --- |',
    ];
    for (const [endpoint, r] of this.rows) {
      const five = [...r.statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
      const statuses = [...r.statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, c]) => `${s}×${c}`)
        .join(' ');
      const kinds = [...r.kinds]
        .sort()
        .map(([k, c]) => `${k} ${c}`)
        .join(', ');
      lines.push(`| ${endpoint} | ${r.total} | ${five} | ${statuses} | ${kinds} |`);
    }
    lines.push(`| **total** | **${this.total()}** | **${this.fiveHundreds()}** | | |`);
    return lines.join('\n');
  }
}

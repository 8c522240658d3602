/**
 * Loading the policy file: YAML parsing, schema validation, and problems that point at `FILE:LINE:COL`.
 * Every problem is reported at once (not just the first), each with a hint where one is obvious.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from 'yaml';
import type { z } from 'zod';
import { GuardiaError } from '../../shared/errors.js';
import { DEFAULT_POLICY_YAML } from './default-policy.js';
import { policySchema, type Policy, type SecretRef } from './schema.js';

/** One problem in a policy file, located at the node it is about. */
export interface PolicyProblem {
  file: string;
  line: number;
  col: number;
  /** Where in the policy, e.g. `severities.sev1.ack` or `roles[0].members[1]` ("" for the whole file). */
  path: string;
  message: string;
  hint?: string;
}

/** The name shown for the built-in policy in problems and messages. */
export const DEFAULT_POLICY_FILE = '<default policy>';
/** The file `guardia` looks for in the working directory when no policy is named. */
export const DEFAULT_POLICY_PATH = 'guardia.yaml';

const DURATION_FORMS = '"30s", "5m", "2h", "7d" or "1 business day"';
const DURATION_KEYS = new Set(['ack', 'mitigate', 'after', 'reopen_window']);

type Issue = z.core.$ZodIssue;
type PathSegment = PropertyKey;
/** A zod issue with its full path; `alternatives` are exact values another union branch would have accepted. */
type FlatIssue = Issue & { alternatives?: string[] };

/** Parses and validates policy text. `policy` is set only when there are no problems. */
export function parsePolicyText(text: string, file: string): { policy?: Policy; problems: PolicyProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, keepSourceTokens: true });
  const at = (offset: number): { line: number; col: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: Math.max(pos.line, 1), col: Math.max(pos.col, 1) };
  };

  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err): PolicyProblem => ({
      file,
      ...at(err.pos[0]),
      path: '',
      message: `YAML syntax error: ${err.message}`,
      ...(syntaxHint(err.code) ? { hint: syntaxHint(err.code) } : {}),
    }));
    return { problems: sortProblems(dedupe(problems)) };
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // An alias to no anchor, or so many aliases that expanding them is an attack ("billion laughs").
    return { problems: [aliasProblem(doc, err, file, at)] };
  }
  const result = policySchema.safeParse(raw);
  if (result.success) return { policy: result.data, problems: [] };

  const ctx: IssueContext = { doc, raw, file, at };
  const problems = flattenIssues(result.error.issues, []).flatMap((issue) => problemsFor(issue, ctx));
  return { problems: sortProblems(dropExplainedMissingKeys(dedupe(problems))) };
}

/** The problem for a document whose aliases cannot be expanded, at the first alias to blame. */
function aliasProblem(
  doc: Document,
  err: unknown,
  file: string,
  at: (offset: number) => { line: number; col: number },
): PolicyProblem {
  let unresolved: { name: string; offset: number } | undefined;
  let first: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      first ??= node.range?.[0];
      if (!unresolved && node.resolve(doc) === undefined) {
        unresolved = { name: node.source, offset: node.range?.[0] ?? 0 };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (unresolved)
    return {
      file,
      ...at(unresolved.offset),
      path: '',
      message: `YAML alias *${unresolved.name} refers to no anchor`,
      hint: `define the anchor (&${unresolved.name}) before the alias, or write the value out`,
    };
  return {
    file,
    ...at(first ?? 0),
    path: '',
    message: `YAML aliases cannot be expanded: ${(err as Error).message}`,
  };
}

/** One line per problem: `FILE:LINE:COL: message (hint: …)`. */
export function formatProblems(problems: PolicyProblem[]): string {
  return problems
    .map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}${p.hint ? ` (hint: ${p.hint})` : ''}`)
    .join('\n');
}

/**
 * The policy file to use when none is named on the command line: `$GUARDIA_POLICY` if set, else `./guardia.yaml`
 * if it exists, else `undefined` (the built-in default policy).
 */
export function findPolicyPath(
  options: { path?: string; env?: NodeJS.ProcessEnv; exists?: (path: string) => boolean } = {},
): string | undefined {
  if (options.path) return options.path;
  const fromEnv = (options.env ?? process.env).GUARDIA_POLICY;
  if (fromEnv) return fromEnv;
  return (options.exists ?? existsSync)(DEFAULT_POLICY_PATH) ? DEFAULT_POLICY_PATH : undefined;
}

/** The policy text and the name to show for it: the file at `path`, or the built-in default policy. */
export function readPolicySource(path?: string): { text: string; file: string } {
  if (path === undefined) return { text: DEFAULT_POLICY_YAML, file: DEFAULT_POLICY_FILE };
  try {
    return { text: readFileSync(path, 'utf8'), file: path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new GuardiaError('invalid_input', `policy file not found: ${path}`);
    if (code === 'EISDIR')
      throw new GuardiaError('invalid_input', `policy path is a directory, not a file: ${path}`);
    throw new GuardiaError('invalid_input', `cannot read policy file ${path}: ${(err as Error).message}`);
  }
}

/** Loads and validates the policy: the file at `path`, or the built-in default. Throws `invalid_policy`. */
export function loadPolicy(options: { path?: string } = {}): Policy {
  const { text, file } = readPolicySource(options.path);
  const { policy, problems } = parsePolicyText(text, file);
  if (!policy || problems.length > 0)
    throw new GuardiaError('invalid_policy', formatProblems(problems), { problems });
  return policy;
}

/** The value of a secret's environment variable; `undefined` when it is unset or empty. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[ref.env];
  return value === undefined || value === '' ? undefined : value;
}

// ---------------------------------------------------------------------------------------------------------------
// Issue → problem mapping

interface IssueContext {
  doc: Document.Parsed;
  raw: unknown;
  file: string;
  at: (offset: number) => { line: number; col: number };
}

/** Replaces each union failure by the issues of the branch that came closest to matching, with full paths. */
function flattenIssues(issues: readonly Issue[], prefix: PathSegment[]): FlatIssue[] {
  return issues.flatMap((issue): FlatIssue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ ...issue, path }];
    const best = bestBranch(issue.errors);
    const flat = flattenIssues(best, path);
    // Other branches that wanted one exact value (e.g. "ack_target") are alternatives worth naming in the hint.
    const alternatives = issue.errors
      .filter((branch) => branch !== best)
      .flatMap((branch) =>
        branch.length === 1 && branch[0]?.code === 'invalid_value' ? branch[0].values : [],
      )
      .filter((v) => typeof v === 'string');
    if (alternatives.length === 0 || flat.length !== 1) return flat;
    return [{ ...flat[0]!, alternatives }];
  });
}

/** Scores a union branch: deeper paths mean the input had the right shape; wrong types mean it did not. */
function bestBranch(branches: Issue[][]): Issue[] {
  const score = (branch: Issue[]): number =>
    Math.max(
      ...branch.map((i) => {
        const rank =
          i.code === 'invalid_type' ? 0 : i.code === 'invalid_value' && i.values.length === 1 ? 1 : 2;
        return i.path.length * 10 + rank;
      }),
    );
  return branches.reduce((best, branch) => (score(branch) > score(best) ? branch : best));
}

function problemsFor(issue: FlatIssue, ctx: IssueContext): PolicyProblem[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const target = locate(ctx.doc, path);
    const present = isMap(target.node)
      ? target.node.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '')).filter(Boolean)
      : [];
    const valid = objectKeysAt(path);
    return issue.keys.map((key): PolicyProblem => {
      const keyNode = isMap(target.node) ? findPair(target.node, key)?.key : undefined;
      const where = rangeStart(keyNode) ?? rangeStart(target.node) ?? 0;
      const missing = valid.filter((k) => !present.includes(k));
      const suggestion = nearest(key, missing) ?? nearest(key, valid);
      const hint = suggestion
        ? `did you mean "${suggestion}"?`
        : valid.length > 0
          ? `valid keys here: ${valid.join(', ')}`
          : undefined;
      return problem(ctx, where, [...path, key], `unknown key "${key}"${inSection(path)}`, hint, {
        suggestion,
      });
    });
  }

  const target = locate(ctx.doc, path);
  if (target.missing !== undefined) {
    // A required key is absent: point at the map that should hold it.
    const where = rangeStart(target.keyNode) ?? rangeStart(target.node) ?? 0;
    const missingKey = path[path.length - 1];
    const expected =
      typeof missingKey === 'string' && DURATION_KEYS.has(missingKey)
        ? `expected a duration: ${DURATION_FORMS}`
        : describeExpected(issue);
    return [
      problem(
        ctx,
        where,
        path,
        `missing required key "${String(target.missing)}"${inSection(path.slice(0, -1))}`,
        expected,
        { missingKey: String(target.missing) },
      ),
    ];
  }

  const node = target.node;
  const where = hasSource(node) ? rangeStart(node)! : (rangeStart(target.keyNode) ?? rangeStart(node) ?? 0);
  const input = isScalar(node) ? node.value : undefined;
  const last = path[path.length - 1];
  const lastKey = typeof last === 'string' ? last : undefined;
  const alternatives = issue.alternatives ?? [];
  let message = cleanMessage(issue.message);
  let hint: string | undefined;

  if (issue.code === 'invalid_value' && issue.values.length > 1) {
    if (message === issue.message && /^Invalid option/.test(issue.message))
      message = `invalid value ${JSON.stringify(input)}`;
    const options = issue.values.map(String);
    const suggestion = typeof input === 'string' ? nearest(input, options) : undefined;
    hint = `${suggestion ? `did you mean "${suggestion}"? ` : ''}allowed values: ${options.join(', ')}`;
  } else if (/secrets are given/.test(issue.message)) {
    const name = envNameFor(ctx.raw, path);
    hint = `set the secret in an environment variable and write ${lastKey ?? 'secret'}: "\${${name}}"`;
  } else if (lastKey && DURATION_KEYS.has(lastKey)) {
    if (/greater than zero/.test(issue.message)) hint = 'a zero target can never be met; use e.g. "5m"';
    else if (/must be positive/.test(issue.message))
      hint = 'durations count forward from the start; use e.g. "5m"';
    else {
      const forms = alternatives.length > 0 ? `${alternatives.map((a) => `"${a}"`).join(', ')}, ` : '';
      hint = `accepted forms: ${forms}${DURATION_FORMS}`;
    }
  } else if (issue.code === 'custom' && typeof input === 'string') {
    const candidates = crossReferenceCandidates(ctx.raw, issue.message);
    const suggestion = candidates ? nearest(input, candidates) : undefined;
    if (suggestion) hint = `did you mean "${suggestion}"?`;
  } else if (alternatives.length > 0) {
    hint = `also accepted: ${alternatives.map((a) => `"${a}"`).join(', ')}`;
  }
  if (path.length === 0 && issue.code === 'invalid_type')
    message = `the policy must be a YAML map with "version: 1" at the top; ${message}`;
  return [problem(ctx, where, path, message, hint)];
}

function problem(
  ctx: IssueContext,
  offset: number,
  path: readonly PathSegment[],
  message: string,
  hint: string | undefined,
  extra: { suggestion?: string; missingKey?: string } = {},
): PolicyProblem & { suggestion?: string; missingKey?: string } {
  return {
    file: ctx.file,
    ...ctx.at(offset),
    path: formatPath(path),
    message,
    ...(hint ? { hint } : {}),
    ...(extra.suggestion ? { suggestion: extra.suggestion } : {}),
    ...(extra.missingKey ? { missingKey: extra.missingKey } : {}),
  };
}

/**
 * A misspelt key yields two issues: the unknown key and the missing one. When the unknown key's suggestion is
 * the missing key in the same map, the "missing" problem adds nothing, so it is dropped.
 */
function dropExplainedMissingKeys(problems: PolicyProblem[]): PolicyProblem[] {
  type Extended = PolicyProblem & { suggestion?: string; missingKey?: string };
  const all = problems as Extended[];
  const parent = (p: string): string => p.replace(/(^|\.)[^.[\]]+$|\[\d+\]$/, '');
  const explained = new Set(
    all.filter((p) => p.suggestion).map((p) => `${parent(p.path)}\u0000${p.suggestion ?? ''}`),
  );
  return all
    .filter((p) => !(p.missingKey && explained.has(`${parent(p.path)}\u0000${p.missingKey}`)))
    .map(({ suggestion: _s, missingKey: _m, ...rest }) => rest);
}

function dedupe(problems: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.col}:${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortProblems(problems: PolicyProblem[]): PolicyProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}

/** zod's generic wording, in the words of a YAML file: "expected a map, got a list". */
function cleanMessage(message: string): string {
  const type = /^Invalid input: expected (\w+), received (\w+)$/.exec(message);
  if (type) return `expected ${typeWord(type[1]!)}, got ${typeWord(type[2]!)}`;
  return message.replace(/^Invalid input: /, '');
}

function typeWord(type: string): string {
  const words: Record<string, string> = {
    object: 'a map',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
    null: 'an empty value',
    undefined: 'nothing',
  };
  return words[type] ?? type;
}

function describeExpected(issue: Issue): string | undefined {
  if (issue.code === 'invalid_type') return `expected ${typeWord(issue.expected)}`;
  if (issue.code === 'invalid_value' && issue.values.length === 1) return cleanMessage(issue.message);
  if (issue.code === 'invalid_value') return `one of: ${issue.values.map(String).join(', ')}`;
  return undefined;
}

function inSection(path: readonly PathSegment[]): string {
  return path.length === 0 ? '' : ` in ${formatPath(path)}`;
}

function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? String(seg) : `.${String(seg)}`))
    .join('');
}

function syntaxHint(code: string): string | undefined {
  switch (code) {
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'DUPLICATE_KEY':
      return 'each key may appear only once in a map';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'check the indentation and closing brackets on this line and the one before';
    case 'BLOCK_AS_IMPLICIT_KEY':
      return 'put nested maps on their own indented lines, or quote values that contain ": "';
    default:
      return undefined;
  }
}

/** For a cross-reference problem (unknown person, role, integration): the ids the value could have meant. */
function crossReferenceCandidates(raw: unknown, message: string): string[] | undefined {
  const ids = (section: string, field: string): string[] => {
    const list = (raw as Record<string, unknown> | null)?.[section];
    return Array.isArray(list)
      ? list
          .map((item) => (item as Record<string, unknown> | null)?.[field])
          .filter((v) => typeof v === 'string')
      : [];
  };
  if (message.startsWith('unknown person')) return ids('people', 'id');
  if (message.startsWith('unknown role or person')) return [...ids('roles', 'id'), ...ids('people', 'id')];
  if (message.startsWith('unknown integration')) return ids('integrations', 'name');
  return undefined;
}

/** A suggested environment variable name for an integration's secret, e.g. `PAGERDUTY_TOKEN`. */
function envNameFor(raw: unknown, path: readonly PathSegment[]): string {
  // playbooks.targets.mysql_dsn → APP_MYSQL_DSN; playbooks.targets.login.password → APP_LOGIN_PASSWORD.
  if (path[0] === 'playbooks')
    return `APP_${path
      .slice(2)
      .filter((seg) => typeof seg === 'string')
      .join('_')
      .toUpperCase()}`;
  let value: unknown = raw;
  for (const seg of path.slice(0, -1)) value = (value as Record<PropertyKey, unknown> | null)?.[seg];
  const name = (value as { name?: unknown } | null)?.name;
  const base = typeof name === 'string' && name ? name : 'integration';
  return `${base.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_TOKEN`;
}

// ---------------------------------------------------------------------------------------------------------------
// Finding nodes in the YAML document

interface Located {
  /** The deepest node found along the path (the node itself when `missing` is undefined). */
  node: Node | null | undefined;
  /** The key of the pair holding `node`, when `node` is a map value. */
  keyNode?: Node | null | undefined;
  /** The first path segment that does not exist in the document. */
  missing?: PathSegment;
}

function locate(doc: Document.Parsed, path: readonly PathSegment[]): Located {
  let node: unknown = doc.contents;
  let keyNode: Node | null | undefined;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = findPair(node, seg);
      if (!pair) return { node, keyNode, missing: seg };
      keyNode = pair.key as Node | null;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      keyNode = undefined;
      node = node.items[seg];
    } else {
      return { node: node as Node | null, keyNode, missing: seg };
    }
  }
  return { node: node as Node | null, keyNode };
}

function findPair(map: { items: unknown[] }, key: PathSegment): { key: unknown; value: unknown } | undefined {
  for (const pair of map.items) {
    if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(key)) return pair;
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] | null } | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** Whether a node has text in the file (an empty value like `ack:` has none). */
function hasSource(node: unknown): boolean {
  const range = (node as { range?: [number, number, number] | null } | null | undefined)?.range;
  return !!range && range[1] > range[0];
}

// ---------------------------------------------------------------------------------------------------------------
// The keys the schema accepts at a path, for "did you mean" suggestions

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
  }
  return current;
}

function objectKeysAt(path: readonly PathSegment[]): string[] {
  const walk = (schema: z.ZodType, rest: readonly PathSegment[]): string[] | undefined => {
    const inner = unwrap(schema);
    const def = defOf(inner);
    if (def.type === 'union')
      return (def.options ?? []).map((o) => walk(o, rest)).find((keys) => keys !== undefined);
    if (rest.length === 0) return def.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
    const [seg, ...tail] = rest;
    if (def.type === 'object' && def.shape && typeof seg === 'string' && def.shape[seg])
      return walk(def.shape[seg], tail);
    if (def.type === 'array' && def.element && typeof seg === 'number') return walk(def.element, tail);
    return undefined;
  };
  return walk(policySchema, path) ?? [];
}

// ---------------------------------------------------------------------------------------------------------------
// Suggestions

/** The closest candidate by edit distance, if it is close enough to be a likely typo. */
export function nearest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  const lower = input.toLowerCase();
  for (const candidate of new Set(candidates)) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
      tie = false;
    } else if (d === bestDistance) tie = true;
  }
  // A tie (e.g. "sev4" is as close to sev1 as to sev2) is no suggestion at all.
  if (best === undefined || tie || (bestDistance === 0 && best === input)) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(input.length, best.length) / 3));
  return bestDistance <= limit && bestDistance < Math.max(input.length, best.length) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

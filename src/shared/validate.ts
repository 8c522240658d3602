/**
 * Turning zod validation failures into Guardia's `invalid_input` error: each issue names the field, what was
 * expected and what was received, so a caller can fix the request without guessing.
 */
import type { z } from 'zod';
import { invalidInput, type FieldIssue } from './errors.js';

/** Parses `value` with `schema` or throws `invalid_input` listing every problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidInput(zodIssues(result.error, value, prefix));
}

/** Maps zod issues to field issues; `received` shows a short rendering of the offending value. */
export function zodIssues(error: z.ZodError, input: unknown, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)';
    const received = describe(valueAt(input, issue.path));
    const expected = 'expected' in issue && typeof issue.expected === 'string' ? issue.expected : undefined;
    return { field, message: issue.message, ...(expected ? { expected } : {}), received };
  });
}

/**
 * A value quoted for an error message: JSON for short scalars, a description for arrays and objects, long strings
 * cut. Safe on any input a request can carry (10,000-deep nesting would overflow JSON.stringify's stack).
 */
export function showValue(value: unknown, max = 60): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'string' && value.length > max) return `${JSON.stringify(value.slice(0, max))}…`;
  return JSON.stringify(value) ?? String(value);
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value.length > 60 ? `string "${value.slice(0, 57)}..."` : `string "${value}"`;
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (typeof value === 'object') return 'object';
  return `${typeof value} ${String(value)}`;
}

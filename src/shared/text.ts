/**
 * Text as the store can keep it: PostgreSQL refuses NUL characters in text columns, and a lone UTF-16 surrogate
 * (possible in JSON via "\ud800") would come back changed. Both become U+FFFD before anything is written.
 */
export function cleanText(text: string): string {
  return (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text).toWellFormed();
}

/** Applies cleanText to every string property of a row about to be written. */
export function cleanRow<T extends object>(row: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row))
    out[key] = typeof value === 'string' ? cleanText(value) : value;
  return out as T;
}

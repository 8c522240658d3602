/**
 * Text as the store can keep it: PostgreSQL refuses NUL characters in text columns, and a lone UTF-16 surrogate
 * (possible in JSON via "\ud800") would come back changed. Both become U+FFFD before anything is written.
 */
export function cleanText(text: string): string {
  const withoutNul = text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
  // Checking first costs nothing for the usual, well-formed text; toWellFormed would copy it.
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed();
}

/**
 * Applies cleanText to every string property of a row about to be written. Returns the row itself when nothing
 * needed cleaning (the usual case, on the ingest path), else a cleaned copy; the row given is never changed.
 */
export function cleanRow<T extends object>(row: T): T {
  let copy: Record<string, unknown> | undefined;
  const values = row as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    const value = values[key];
    if (typeof value !== 'string') continue;
    const clean = cleanText(value);
    if (clean !== value) (copy ??= { ...values })[key] = clean;
  }
  return (copy ?? row) as T;
}

/**
 * JSON that comes from outside, checked in one pass before it is parsed:
 * - nesting is bounded: code that walks or serializes a parsed body (zod messages, JSON.stringify when storing
 *   `details`) recurses, and a 10,000-deep body would overflow the stack there. No provider sends more than a
 *   dozen levels.
 * - a `\uD800`-style escape can produce a lone surrogate, which is not text: encodeURIComponent throws on it and
 *   no store can keep it faithfully. Such strings (and keys) get U+FFFD instead, as invalid UTF-8 bytes do.
 */

/** Deepest nesting of arrays and objects accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

export interface JsonScan {
  tooDeep: boolean;
  /** An escape of a UTF-16 surrogate appears in a string (maybe a lone one). */
  surrogateEscape: boolean;
}

const isHex8toF = (c: number) =>
  (c >= 0x38 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** One pass over JSON text: nesting depth (strings skipped) and surrogate escapes. No parsing. */
export function scanJson(text: string, max = MAX_JSON_DEPTH): JsonScan {
  let depth = 0;
  let inString = false;
  let surrogateEscape = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) {
        if (
          text.charCodeAt(i + 1) === 0x75 /* u */ &&
          (text.charCodeAt(i + 2) | 0x20) === 0x64 /* d */ &&
          isHex8toF(text.charCodeAt(i + 3))
        )
          surrogateEscape = true;
        i++;
      } else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return { tooDeep: true, surrogateEscape };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return { tooDeep: false, surrogateEscape };
}

/** Lone surrogates in every string and key replaced by U+FFFD (for values parsed from JSON: plain data). */
export function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed();
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty: a "__proto__" key stays data, as JSON.parse made it.
      Object.defineProperty(out, k.toWellFormed(), {
        value: wellFormed(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

export function tooDeepMessage(max = MAX_JSON_DEPTH): string {
  return `request body is not accepted: JSON nested deeper than ${max} levels`;
}

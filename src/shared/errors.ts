/**
 * The one error type of Guardia. Every failure a user can see carries a stable `code`; the table below maps
 * each code to an HTTP status and a CLI exit code in one place, so the API, the CLI and the console agree.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'unknown_integration'
  | 'invalid_transition'
  | 'conflict'
  | 'invalid_policy'
  | 'rate_limited'
  | 'upstream_error'
  | 'store_unavailable'
  | 'internal';

interface CodeMapping {
  http: number;
  /** CLI exit code: 1 = a check failed / refused, 2 = usage or cannot evaluate (DESIGN.md §4). */
  exit: 1 | 2;
}

const CODE_TABLE: Record<ErrorCode, CodeMapping> = {
  invalid_input: { http: 400, exit: 2 },
  invalid_json: { http: 400, exit: 2 },
  payload_too_large: { http: 413, exit: 2 },
  unsupported_media_type: { http: 415, exit: 2 },
  unauthenticated: { http: 401, exit: 2 },
  forbidden: { http: 403, exit: 2 },
  not_found: { http: 404, exit: 2 },
  unknown_integration: { http: 404, exit: 2 },
  invalid_transition: { http: 409, exit: 1 },
  conflict: { http: 409, exit: 1 },
  invalid_policy: { http: 500, exit: 1 },
  rate_limited: { http: 429, exit: 2 },
  /** A provider Guardia calls (GitHub's API) refused or failed: Guardia cannot evaluate. */
  upstream_error: { http: 502, exit: 2 },
  store_unavailable: { http: 503, exit: 2 },
  internal: { http: 500, exit: 2 },
};

/** Every stable error code (the API's Error schema lists them). */
export const ERROR_CODES = Object.keys(CODE_TABLE) as ErrorCode[];

/** One problem in an input: which field, what was expected, what was received. */
export interface FieldIssue {
  field: string;
  message: string;
  expected?: string;
  received?: string;
}

export class GuardiaError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'GuardiaError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return CODE_TABLE[this.code].http;
  }

  get exitCode(): 1 | 2 {
    return CODE_TABLE[this.code].exit;
  }

  /** The wire shape of every API error: `{ error: { code, message, details? } }`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** HTTP status for a code (used where no GuardiaError instance exists, e.g. framework errors). */
export function httpStatusFor(code: ErrorCode): number {
  return CODE_TABLE[code].http;
}

/** Shorthand for input validation failures: names every field that is wrong. */
export function invalidInput(issues: FieldIssue[], message?: string): GuardiaError {
  const summary = message ?? issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
  return new GuardiaError('invalid_input', summary, { issues });
}

/**
 * One place that turns anything thrown while serving a request into Guardia's error body and status.
 * Framework errors (body too large, bad JSON, wrong media type) and store outages get stable codes too.
 */
import { GuardiaError } from '../shared/errors.js';
import { isStoreOutage } from '../store/db.js';

/** Maps any error to a GuardiaError. */
export function toGuardiaError(err: unknown): GuardiaError {
  if (err instanceof GuardiaError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GuardiaError('payload_too_large', e.message ?? 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GuardiaError(
        'unsupported_media_type',
        `${e.message ?? 'unsupported media type'}; send application/json`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GuardiaError('invalid_json', 'request body is empty; expected JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GuardiaError('invalid_json', `request body is not valid JSON: ${e.message ?? ''}`);
  }
  if (isStoreOutage(err))
    return new GuardiaError('store_unavailable', 'the store is unavailable; retry later');
  if (err instanceof SyntaxError && e.statusCode === 400) {
    return new GuardiaError('invalid_json', `request body is not valid JSON: ${err.message}`);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new GuardiaError(
      e.statusCode === 413 ? 'payload_too_large' : 'invalid_input',
      e.message ?? 'bad request',
    );
  }
  return new GuardiaError('internal', 'internal error; see the server log for this request id');
}

/**
 * A lost store is a 503 store_unavailable (so clients retry), never a 500: node-postgres reports a connection
 * lost under a query (a PostgreSQL restart) without an error code, so those messages are recognised too.
 */
import { describe, expect, it } from 'vitest';
import { toGuardiaError } from '../../src/server/errors.js';

describe('store outages map to 503 store_unavailable', () => {
  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Client has encountered a connection error and is not queryable',
    'Client was closed and is not queryable',
    'timeout exceeded when trying to connect',
  ])('pg without a code: %s', (message) => {
    const error = toGuardiaError(new Error(message));
    expect(error.code).toBe('store_unavailable');
    expect(error.httpStatus).toBe(503);
  });

  it.each(['ECONNREFUSED', '57P01', '57P03', 'SQLITE_BUSY'])('coded: %s', (code) => {
    expect(toGuardiaError(Object.assign(new Error('x'), { code })).httpStatus).toBe(503);
  });

  it('anything else stays an internal error', () => {
    expect(toGuardiaError(new Error('Connection refused by policy')).code).toBe('internal');
    expect(toGuardiaError(Object.assign(new Error('Connection terminated'), { code: 'XX000' })).code).toBe(
      'internal',
    );
  });
});

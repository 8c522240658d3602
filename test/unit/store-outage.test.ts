import { describe, expect, it } from 'vitest';
import { isStoreOutage } from '../../src/store/db.js';
import { toGuardiaError } from '../../src/server/errors.js';

// A sender retries a 503; it should only hear one when waiting can help. A statement the store refuses would fail
// the same way on every retry, so it must surface as a logged 500, not as "retry later" forever.
describe('isStoreOutage', () => {
  it.each([
    ['PostgreSQL shutting down', { code: '57P01' }],
    ['connection refused', { code: 'ECONNREFUSED' }],
    ['SQLite busy', { code: 'SQLITE_BUSY' }],
    ['disk full', { code: 'SQLITE_FULL' }],
    ['node-postgres lost its connection', { message: 'Connection terminated unexpectedly' }],
  ])('%s is an outage (503)', (_what, err) => {
    expect(isStoreOutage(Object.assign(new Error(''), err))).toBe(true);
    expect(toGuardiaError(Object.assign(new Error(''), err)).code).toBe('store_unavailable');
  });

  it.each([
    ['a check constraint', { code: 'SQLITE_CONSTRAINT_CHECK' }],
    ['invalid byte sequence on PostgreSQL', { code: '22021' }],
    ['value too long', { code: '22001' }],
    ['a plain bug', { message: 'Cannot read properties of undefined' }],
  ])('%s is not (500)', (_what, err) => {
    expect(isStoreOutage(Object.assign(new Error(''), err))).toBe(false);
    expect(toGuardiaError(Object.assign(new Error(''), err)).code).toBe('internal');
  });
});

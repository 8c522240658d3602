import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Medium tests share the PostgreSQL server; each file uses its own schema, so files may run in parallel.
    pool: 'forks',
  },
});

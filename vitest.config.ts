import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Crash loops and dependency faults run with `npm run test:chaos` (vitest.chaos.config.ts, one file at a time:
    // they restart PostgreSQL), which `.ci/run` runs after `npm test`. The trust suite (test/trust/: fuzzing, auth
    // matrix, secret scan) is part of `npm test`; `npm run test:trust` runs it alone.
    exclude: [...configDefaults.exclude, 'test/chaos/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Medium tests share the PostgreSQL server; each file uses its own schema, so files may run in parallel.
    pool: 'forks',
  },
});

import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: crash loops and dependency faults (test/chaos/). Files run one at a time: some restart
// services the others use (PostgreSQL), and each crash loop wants the machine to itself.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/chaos/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

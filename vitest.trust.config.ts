import { defineConfig } from 'vitest/config';

// `npm run test:trust`: hostile input, auth and secrets (test/trust/): fuzzing of every inbound endpoint and of
// the policy parser, the auth matrix, webhook signatures, rate limits, rendering safety, the secret scan and the
// audit gate. Files may run in parallel (each uses its own store).
export default defineConfig({
  test: {
    include: ['test/trust/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e tests spawn the built CLI and real servers; two cores, keep it calm
    maxWorkers: 2,
  },
});

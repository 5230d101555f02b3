import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A backstop above the run's own deadline (SHORT_OPTIONS.deadlineMs, 4 minutes), which fails first and says why.
    testTimeout: 360_000,
    hookTimeout: 60_000,
    // The short chaos run starts a Redis and three nodes: one file at a time keeps 2 cores sane.
    fileParallelism: false,
  },
});

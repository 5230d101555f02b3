import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Cluster tests start real processes and a Redis each; running files one at a time keeps 2 cores sane.
    fileParallelism: false,
  },
});

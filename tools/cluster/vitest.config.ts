import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A backstop above the waits inside a test, which fail first and say why: a Redis and the nodes each get 60 s to
    // become ready (PROCESS_READY_TIMEOUT_MS), convergence 30 s a step (CONVERGE_MS), on a machine that may be loaded.
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // Cluster tests start real processes and a Redis each; running files one at a time keeps 2 cores sane.
    fileParallelism: false,
  },
});

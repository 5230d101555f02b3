import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Above a child node's or a Redis restart's 60 s readiness bound (a loaded machine); waits inside fail first, saying why.
    testTimeout: 90_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Packing and installing with npm and starting the built gateway: generous, the machine may be loaded.
    hookTimeout: 240_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Above two Redis starts of PROCESS_READY_TIMEOUT_MS each (the restart test): they only take that long when broken.
    testTimeout: 150_000,
  },
});

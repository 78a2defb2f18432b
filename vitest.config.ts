import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Parallel by file (the default 'forks' pool); each test makes its own temp directory.
    reporters: ['default', './test/support/totals-reporter.ts'],
  },
});

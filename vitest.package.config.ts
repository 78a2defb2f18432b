import { defineConfig } from 'vitest/config';

// The packaging checks (test/package/): they pack and install the package, so they run on their own
// (`npm run test:package`, called by .ci/run), not inside `npm test`.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    reporters: ['default', './test/support/totals-reporter.ts'],
  },
});

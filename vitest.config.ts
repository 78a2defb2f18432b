import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/package/ packs and installs the package: `npm run test:package` (vitest.package.config.ts).
    exclude: [...configDefaults.exclude, 'test/package/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Parallel by file (the default 'forks' pool); each test makes its own temp directory.
    reporters: ['default', './test/support/totals-reporter.ts'],
  },
});

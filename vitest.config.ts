import { configDefaults, defineConfig } from 'vitest/config';
import { SLOW_TEST_FILES } from './test/tiers.js';

const ALL_TESTS = ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A JSON report lets .ci/run print the plain "N passed, N failed" line CI reads; the last says why tests skipped.
    reporters: [
      'default',
      ...(process.env.CI_REPORT
        ? [['json', { outputFile: process.env.CI_REPORT }] as ['json', { outputFile: string }]]
        : []),
      './test/helpers/skip-reasons-reporter.ts',
    ],
    // Two tiers (test/tiers.ts): `npm test` runs the fast one, `npm run test:slow` the other, `vitest run` both.
    // Files named on the command line run whichever tier they are in.
    projects: [
      {
        extends: true,
        test: { name: 'fast', include: ALL_TESTS, exclude: [...configDefaults.exclude, ...SLOW_TEST_FILES] },
      },
      { extends: true, test: { name: 'slow', include: [...SLOW_TEST_FILES] } },
    ],
  },
});

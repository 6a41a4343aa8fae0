import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
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
  },
});

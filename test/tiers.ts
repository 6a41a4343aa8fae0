/**
 * The slow test tier: files left out of `npm test` (the fast tier, kept under about five minutes on a free 2-core
 * machine) and run by `npm run test:slow` and by CI (.ci/run runs both). Chosen by measured duration per file
 * (`npx vitest run --reporter=json`), not by guess: each of these takes tens of seconds or more because it starts
 * browsers, nginx, server or CLI processes, cuts databases and storage away, or runs long property-based searches.
 * Everything not listed here is fast. A test that moves or is renamed must be moved here too
 * (test/tiers.test.ts checks that each entry names a test file).
 */
export const SLOW_TESTS: readonly { file: string; why: string }[] = [
  // Chromium through playwright-core.
  { file: 'test/e2e/ui.test.ts', why: 'browser' },
  { file: 'test/e2e/ui-pages.test.ts', why: 'browser' },
  { file: 'test/e2e/rollout.test.ts', why: 'browser' },
  { file: 'test/e2e/device-pin.test.ts', why: 'browser' },
  // Three server processes on one PostgreSQL behind nginx.
  { file: 'test/multi-instance-nginx.test.ts', why: 'nginx and 3 server processes' },
  // The CLI and the server as real processes (a Node start with tsx costs seconds on a busy machine).
  { file: 'test/cli-commands.test.ts', why: 'CLI processes' },
  { file: 'test/catalogue-text.test.ts', why: 'CLI processes' },
  { file: 'test/secret-leaks.test.ts', why: 'server and CLI processes' },
  // Outages and crashes: databases and storage taken away, processes killed.
  { file: 'test/database-unavailable.test.ts', why: 'outages' },
  { file: 'test/import-limits.test.ts', why: 'processes, storage limits' },
  // Long property-based runs.
  { file: 'test/hostile-input.test.ts', why: 'property runs over every route on both stores' },
  // A rollout through all its stages, with real time between them.
  { file: 'test/rollout-scenario.test.ts', why: 'long scenario' },
];

export const SLOW_TEST_FILES: readonly string[] = SLOW_TESTS.map((t) => t.file);

/**
 * The slow test tier: files left out of `npm test` (the fast tier, kept under about five minutes on a free 2-core
 * machine) and run by `npm run test:slow` and by CI (.ci/run runs both). Chosen by measured duration per file (the
 * default reporter's per-file times; `npx vitest run --reporter=json` has them too), not by guess: the seconds
 * below are from one full run on the shared 2-core machine under a load average of 15–20, where the whole suite
 * took 3,203 s against about 500 s on a quieter day (divide by about 6). Each of these starts browsers, nginx,
 * server or CLI processes, takes databases and storage away, or runs long property-based searches. Under the same
 * load the fast tier took 1,213 s (38 %): about 3 of the 8 minutes on a quieter machine. Everything not listed
 * here is fast. A test that moves or is renamed must be moved here too (test/tiers.test.ts checks each entry).
 */
export const SLOW_TESTS: readonly { file: string; why: string }[] = [
  // Chromium through playwright-core.
  { file: 'test/e2e/ui.test.ts', why: 'browser (49 s)' },
  { file: 'test/e2e/ui-pages.test.ts', why: 'browser (46 s)' },
  { file: 'test/e2e/rollout.test.ts', why: 'browser (22 s)' },
  { file: 'test/e2e/device-pin.test.ts', why: 'browser (17 s)' },
  { file: 'test/e2e/device-list.test.ts', why: 'browser' },
  { file: 'test/e2e/install-button.test.ts', why: 'browser' },
  // Three server processes on one PostgreSQL behind nginx.
  { file: 'test/multi-instance-nginx.test.ts', why: 'nginx and 3 server processes (85 s)' },
  // The CLI and the server as real processes (each Node start with tsx costs seconds on a busy machine).
  { file: 'test/cli-commands.test.ts', why: 'CLI processes (342 s)' },
  { file: 'test/image-memory.test.ts', why: 'server processes and 100 downloads of large images (187 s)' },
  { file: 'test/offline-commands.test.ts', why: 'CLI processes (87 s)' },
  { file: 'test/rollout-cli.test.ts', why: 'CLI processes (82 s)' },
  { file: 'test/serve-startup.test.ts', why: 'server processes (53 s)' },
  { file: 'test/migrate-command.test.ts', why: 'CLI processes (40 s)' },
  { file: 'test/catalogue-text.test.ts', why: 'CLI processes (36 s)' },
  { file: 'test/group-cli.test.ts', why: 'CLI processes (36 s)' },
  { file: 'test/secret-leaks.test.ts', why: 'server and CLI processes (35 s)' },
  { file: 'test/device-key-cli.test.ts', why: 'CLI processes' },
  { file: 'test/install-cli.test.ts', why: 'CLI processes' },
  { file: 'test/key-cli.test.ts', why: 'CLI processes' },
  // Outages and crashes: databases and storage taken away, processes killed.
  { file: 'test/storage-failures.test.ts', why: 'storage failures (122 s)' },
  { file: 'test/crash-recovery.test.ts', why: 'killed processes (69 s)' },
  { file: 'test/import-limits.test.ts', why: 'processes, storage limits (31 s)' },
  { file: 'test/database-outage.test.ts', why: 'database outages (26 s)' },
  { file: 'test/database-unavailable.test.ts', why: 'database outages (20 s)' },
  // Long property-based runs, over every route on both stores.
  { file: 'test/hostile-input.test.ts', why: 'property runs (71 s)' },
  { file: 'test/login-mistakes.test.ts', why: 'property runs over every route (85 s)' },
  // A rollout through all its stages, with real time between them.
  { file: 'test/rollout-scenario.test.ts', why: 'long scenario (48 s)' },
];

export const SLOW_TEST_FILES: readonly string[] = SLOW_TESTS.map((t) => t.file);

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Issue 14: `npm test` says in its summary why tests were skipped (a vitest run of its own, without PostgreSQL). */
it('ends the run with the reasons tests were skipped', { timeout: 180_000 }, async () => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        ![
          'CI',
          'ESP_OTA_TEST_PG_URL',
          'ESP_OTA_REQUIRE_BROWSER',
          'ESP_OTA_REQUIRE_MQTT',
          'CI_REPORT',
          'VITEST',
        ].includes(name),
    ),
  );
  const child = spawn(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', 'src/blobs/blob-store.test.ts', 'test/e2e/ui.test.ts'],
    { cwd: ROOT, env: { ...env, ESP_OTA_CHROMIUM: '/nonexistent/chromium', NO_COLOR: '1' } },
  );
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  expect(code, output).toBe(0);
  expect(output).toMatch(/\d+ tests \(or empty suites\) skipped:/);
  expect(output).toMatch(/\d+ × PostgreSQL tests skipped: set ESP_OTA_TEST_PG_URL/);
  expect(output).toMatch(/\d+ × browser tests skipped: no Chromium at \/nonexistent\/chromium/);
  // After vitest's own summary, where it is seen.
  expect(output.lastIndexOf('(or empty suites) skipped:')).toBeGreaterThan(output.lastIndexOf('Test Files'));
});

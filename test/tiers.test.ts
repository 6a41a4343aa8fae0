import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SLOW_TESTS } from './tiers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// A slow-tier entry whose file was renamed or moved would silently put that file back into `npm test`.
it('names only test files that exist, each once', () => {
  const files = SLOW_TESTS.map((t) => t.file);
  expect(files.filter((file) => !existsSync(resolve(ROOT, file)))).toEqual([]);
  expect(files.filter((file) => !/^(src|test)\/.+\.test\.tsx?$/.test(file))).toEqual([]);
  expect(new Set(files).size).toBe(files.length);
  expect(SLOW_TESTS.filter((t) => t.why.trim() === '')).toEqual([]);
});

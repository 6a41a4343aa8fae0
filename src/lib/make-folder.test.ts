import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { makeFolder } from './make-folder.js';

it('creates missing parents, accepts an existing folder, and fails at once where mkdir -p would spin', () => {
  const root = mkdtempSync(join(tmpdir(), 'make-folder-'));
  makeFolder(join(root, 'a', 'b', 'c'));
  expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).toBe(true);
  makeFolder(join(root, 'a', 'b', 'c'));
  writeFileSync(join(root, 'file'), '');
  expect(() => makeFolder(join(root, 'file'))).toThrow(/EEXIST/);
  expect(() => makeFolder(join(root, 'file', 'below'))).toThrow(/ENOTDIR/);
  const started = Date.now();
  expect(() => makeFolder('/proc/esp-ota-test/data')).toThrow(/ENOENT/);
  expect(Date.now() - started).toBeLessThan(1000);
});

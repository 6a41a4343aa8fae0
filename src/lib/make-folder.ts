import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * `mkdir -p` that fails instead of looping: Node's `mkdirSync(…, { recursive: true })` (20 and 24 alike) spins
 * forever at full CPU on a path under /proc, where mkdir answers ENOENT for a parent that exists. Each level is tried
 * once; the first error that cannot be helped by creating the parent is thrown as it came.
 */
export function makeFolder(path: string): void {
  try {
    mkdirSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (statSync(path).isDirectory()) return;
      throw error;
    }
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw error;
    if (statSync(parent, { throwIfNoEntry: false })?.isDirectory()) throw error; // the parent is there: mkdir refused
    makeFolder(parent);
    mkdirSync(path);
  }
}

import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, StagedBlob } from './blob-store.js';
import { fsyncPath, StagingArea } from './staging-area.js';

const KEY = /^[0-9a-f]{64}$/;
/** Bytes read at a time when a blob is streamed. */
const STREAM_CHUNK = 64 * 1024;

/**
 * Blobs on disk under `<root>/<2 hex>/<64 hex>`, named by SHA-256: the embedded default. Keys are validated before
 * they touch a path, so nothing a client sends can name a file.
 */
export class FsBlobStore implements BlobStore {
  private readonly staging: StagingArea;

  constructor(private readonly root: string) {
    this.staging = new StagingArea(join(root, 'staging'));
  }

  init(): Promise<void> {
    return this.staging.init();
  }

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return join(this.root, key.slice(0, 2), key);
  }

  async stage(source: Readable, limit: number): Promise<StagedBlob> {
    const { path: tempPath, ...info } = await this.staging.write(source, limit);
    const finalPath = this.pathOf(info.key);
    const dir = join(this.root, info.key.slice(0, 2));
    return {
      ...info,
      read: () => readFile(tempPath),
      commit: async () => {
        await mkdir(dir, { recursive: true });
        // Renaming over an existing blob with the same name is harmless: the bytes are equal by construction. The
        // fresh mtime tells the collector this blob was just committed, so it will not race the row that follows.
        await rename(tempPath, finalPath);
        await fsyncPath(dir);
        const now = new Date();
        await utimes(finalPath, now, now);
      },
      discard: () => rm(tempPath, { force: true }),
    };
  }

  read(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async openRange(key: string, start: number, end: number): Promise<Readable> {
    // Opened first, so that a missing file rejects here rather than in the middle of an answer. The open file
    // stays readable even if the collector removes the blob meanwhile.
    const file = await open(this.pathOf(key), 'r');
    return file.createReadStream({ start, end, highWaterMark: STREAM_CHUNK });
  }

  async exists(key: string): Promise<boolean> {
    return (await stat(this.pathOf(key)).catch(() => undefined)) !== undefined;
  }

  async list(): Promise<{ key: string; committedAt: number }[]> {
    const result: { key: string; committedAt: number }[] = [];
    for (const dir of await readdir(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of await readdir(join(this.root, dir))) {
        if (!KEY.test(name)) continue;
        const info = await stat(join(this.root, dir, name)).catch(() => undefined);
        if (info) result.push({ key: name, committedAt: info.mtimeMs });
      }
    }
    return result;
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  removeAbandonedStaging(olderThanMs: number): Promise<number> {
    return this.staging.removeOlderThan(olderThanMs);
  }
}

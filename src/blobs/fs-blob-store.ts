import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { BlobTooLargeError, type BlobStore, type StagedBlob } from './blob-store.js';

const KEY = /^[0-9a-f]{64}$/;

/**
 * Blobs on disk under `<root>/<2 hex>/<64 hex>`, named by SHA-256. Keys are validated before they touch a path, so
 * nothing a client sends can name a file.
 */
export class FsBlobStore implements BlobStore {
  private readonly stagingDir: string;

  constructor(private readonly root: string) {
    this.stagingDir = join(root, 'staging');
  }

  async init(): Promise<void> {
    await mkdir(this.stagingDir, { recursive: true });
  }

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return join(this.root, key.slice(0, 2), key);
  }

  async stage(source: Readable, limit: number): Promise<StagedBlob> {
    const tempPath = join(this.stagingDir, `${randomUUID()}.part`);
    const md5 = createHash('md5');
    const sha256 = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > limit) return callback(new BlobTooLargeError(limit));
        md5.update(chunk);
        sha256.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tempPath, { flags: 'wx' }));
      await fsyncPath(tempPath);
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
    const key = sha256.digest('hex');
    const info = { key, sha256: key, md5: md5.digest('hex'), size };
    const finalPath = this.pathOf(key);
    return {
      ...info,
      read: () => readFile(tempPath),
      commit: async () => {
        await mkdir(join(this.root, key.slice(0, 2)), { recursive: true });
        // Renaming over an existing blob with the same name is harmless: the bytes are equal by construction. The
        // fresh mtime tells the collector this blob was just committed, so it will not race the row that follows.
        await rename(tempPath, finalPath);
        await fsyncPath(join(this.root, key.slice(0, 2)));
        const now = new Date();
        await utimes(finalPath, now, now);
      },
      discard: () => rm(tempPath, { force: true }),
    };
  }

  read(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
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

  async removeAbandonedStaging(olderThanMs: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.stagingDir)) {
      const path = join(this.stagingDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs >= olderThanMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobTooLargeError, type BlobInfo } from './blob-store.js';

/**
 * Local temporary files for uploads in progress: written while hashed and size-checked, then fsynced. Both blob
 * stores stage here; they differ only in where a committed blob goes.
 */
export class StagingArea {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async write(source: Readable, limit: number): Promise<BlobInfo & { path: string }> {
    const path = join(this.dir, `${randomUUID()}.part`);
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
    const sink = createWriteStream(path, { flags: 'wx' });
    try {
      await pipeline(source, meter, sink);
      await fsyncPath(path);
    } catch (error) {
      // The file may still be being opened when the pipeline fails; remove it only once the stream has closed,
      // or the late open would leave an empty file behind.
      if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()));
      await rm(path, { force: true });
      throw error;
    }
    const key = sha256.digest('hex');
    return { path, key, sha256: key, md5: md5.digest('hex'), size };
  }

  async removeOlderThan(ageMs: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs >= ageMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

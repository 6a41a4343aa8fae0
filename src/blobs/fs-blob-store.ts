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
 *
 * Commits and deletions take turns (one lock in this process), and a deletion checks the references and the file's
 * time after taking it, so a commit of the same bytes cannot fall between deciding and deleting. That covers the
 * server, the only process that deletes; another process committing into the same folder (an `esp-ota import` while
 * the server runs) is not seen by the lock and is protected only by the time check made just before the unlink.
 */
export class FsBlobStore implements BlobStore {
  private readonly staging: StagingArea;
  private turns: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly root: string,
    /** Whether an image row points at the blob (the rows live in the database, not here). */
    private readonly isReferenced: (key: string) => Promise<boolean>,
  ) {
    this.staging = new StagingArea(join(root, 'staging'));
  }

  /** Runs `work` after every commit and deletion started before it has finished. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turns.then(work, work);
    this.turns = run.catch(() => undefined);
    return run;
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
      commit: () =>
        this.inTurn(async () => {
          await mkdir(dir, { recursive: true });
          // Renaming over an existing blob with the same name is harmless: the bytes are equal by construction. The
          // fresh mtime tells the collector this blob was just committed, so it will not race the row that follows.
          await rename(tempPath, finalPath);
          await fsyncPath(dir);
          const now = new Date();
          await utimes(finalPath, now, now);
        }),
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

  deleteIfUnreferenced(key: string, committedBefore: number): Promise<boolean> {
    const path = this.pathOf(key);
    return this.inTurn(async () => {
      if (await this.isReferenced(key)) return false;
      const info = await stat(path).catch(() => undefined);
      if (!info || info.mtimeMs >= committedBefore) return false;
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      return true;
    });
  }

  removeAbandonedStaging(olderThanMs: number): Promise<number> {
    return this.staging.removeOlderThan(olderThanMs);
  }
}

import { readFile, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { BlobStore, StagedBlob } from './blob-store.js';
import type { StagingArea } from './staging-area.js';

/**
 * Blobs as rows of the `blobs` table: with PostgreSQL this makes every instance see every image, so instances keep
 * no state of their own beyond their staging folder. Committing is one statement, so a blob row is whole or absent.
 */
export class DbBlobStore implements BlobStore {
  constructor(
    private readonly db: Database,
    private readonly staging: StagingArea,
    private readonly clock: Clock,
  ) {}

  init(): Promise<void> {
    return this.staging.init();
  }

  async stage(source: Readable, limit: number): Promise<StagedBlob> {
    const { path, ...info } = await this.staging.write(source, limit);
    return {
      ...info,
      read: () => readFile(path),
      commit: async () => {
        const data = await readFile(path);
        const committedAt = this.clock.now();
        await this.db
          .insertInto('blobs')
          .values({ key: info.key, data, size: data.length, committed_at: committedAt })
          // Equal key means equal bytes; refreshing the time keeps the collector off a blob about to be referenced.
          .onConflict((oc) => oc.column('key').doUpdateSet({ committed_at: committedAt }))
          .execute();
        await rm(path, { force: true });
      },
      discard: () => rm(path, { force: true }),
    };
  }

  async read(key: string): Promise<Buffer> {
    const row = await this.db.selectFrom('blobs').select('data').where('key', '=', key).executeTakeFirst();
    if (!row) throw Object.assign(new Error(`no blob ${key}`), { code: 'ENOENT' });
    return Buffer.from(row.data);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.db.selectFrom('blobs').select('key').where('key', '=', key).executeTakeFirst()) !== undefined;
  }

  async list(): Promise<{ key: string; committedAt: number }[]> {
    const rows = await this.db.selectFrom('blobs').select(['key', 'committed_at']).execute();
    return rows.map((r) => ({ key: r.key, committedAt: r.committed_at }));
  }

  /** One statement: its conditions are checked against the row as it is when deleted, with any commit before. */
  async deleteIfUnreferenced(key: string, committedBefore: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('blobs')
      .where('key', '=', key)
      .where('committed_at', '<', committedBefore)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('images').select('images.id').whereRef('images.sha256', '=', 'blobs.key'))),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  removeAbandonedStaging(olderThanMs: number): Promise<number> {
    return this.staging.removeOlderThan(olderThanMs);
  }
}

import { readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { BlobStore, StagedBlob } from './blob-store.js';
import type { StagingArea } from './staging-area.js';

/**
 * Bytes fetched per query. Selecting the whole column made every concurrent download of a large image hold its own
 * copy, several times over in transit (PostgreSQL sends bytea as hex text, which the driver buffers whole before
 * decoding it); `substr` of a column stored uncompressed (migration 006) reads only the TOAST pages it needs. A
 * stream holds about two chunks per connection; a whole read, done once per image by the cache, takes larger ones.
 */
const STREAM_CHUNK = 64 * 1024;
const READ_CHUNK = 1024 * 1024;

function missing(key: string): Error {
  return Object.assign(new Error(`no blob ${key}`), { code: 'ENOENT' });
}

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

  /** The whole blob, fetched a chunk at a time into one buffer of its size. */
  async read(key: string): Promise<Buffer> {
    const size = await this.sizeOf(key);
    const data = Buffer.allocUnsafe(size);
    let filled = 0;
    for await (const chunk of this.chunks(key, 0, size - 1, READ_CHUNK)) filled += chunk.copy(data, filled);
    if (filled !== size) throw new Error(`blob ${key} has ${filled} bytes, not ${size}`);
    return data;
  }

  async openRange(key: string, start: number, end: number): Promise<Readable> {
    const last = Math.min(end, (await this.sizeOf(key)) - 1);
    // The generator is pulled as the reader drains the stream, so at most a chunk is read ahead.
    return Readable.from(this.chunks(key, start, last, STREAM_CHUNK), {
      objectMode: false,
      highWaterMark: STREAM_CHUNK,
    });
  }

  private async sizeOf(key: string): Promise<number> {
    const row = await this.db.selectFrom('blobs').select('size').where('key', '=', key).executeTakeFirst();
    if (!row) throw missing(key);
    return row.size;
  }

  private async *chunks(key: string, start: number, last: number, chunkSize: number): AsyncGenerator<Buffer> {
    for (let position = start; position <= last; position += chunkSize) {
      const chunk = await this.db
        .selectFrom('blobs')
        // substr counts from 1, on SQLite and PostgreSQL alike.
        .select(sql<Uint8Array>`substr(data, ${position + 1}, ${Math.min(chunkSize, last - position + 1)})`.as('bytes'))
        .where('key', '=', key)
        .executeTakeFirst();
      if (!chunk) throw missing(key); // deleted meanwhile
      yield Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength); // a view, not a copy
    }
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
      // A release's install asset (factory image, bootloader, partition table) keeps its files too.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('install_asset_parts')
              .select('install_asset_parts.asset_id')
              .whereRef('install_asset_parts.blob_key', '=', 'blobs.key'),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  removeAbandonedStaging(olderThanMs: number): Promise<number> {
    return this.staging.removeOlderThan(olderThanMs);
  }
}

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { systemClock } from '../lib/clock.js';
import { BlobTooLargeError, type BlobStore } from './blob-store.js';
import { DbBlobStore } from './db-blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';
import { StagingArea } from './staging-area.js';
import { createPgDatabase, PG_SKIP_REASON, PG_URL } from '../../test/helpers/test-app.js';

const bytes = Buffer.from('firmware bytes '.repeat(1000));
const sha = createHash('sha256').update(bytes).digest('hex');

interface Made {
  store: BlobStore;
  staging: string;
  /** Makes an image row point at the key. */
  reference: (key: string) => Promise<void>;
  close?: () => Promise<void>;
}

function contract(name: string, make: (dir: string) => Promise<Made>) {
  describe(name, () => {
    const dir = mkdtempSync(join(tmpdir(), 'esp-ota-blobs-'));
    let store: BlobStore;
    let staging: string;
    let reference: Made['reference'];
    let close: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, staging, reference, close } = await make(dir));
    });
    afterAll(async () => {
      await close?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stages with digests, and only commit makes the blob visible', async () => {
      const staged = await store.stage(Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]), 1 << 20);
      expect(staged).toMatchObject({
        key: sha,
        sha256: sha,
        size: bytes.length,
        md5: createHash('md5').update(bytes).digest('hex'),
      });
      expect(Buffer.compare(await staged.read(), bytes)).toBe(0);
      expect(await store.exists(sha)).toBe(false);
      await staged.commit();
      await staged.discard();
      expect(await store.exists(sha)).toBe(true);
      expect(Buffer.compare(await store.read(sha), bytes)).toBe(0);
      expect((await store.list()).map((b) => b.key)).toEqual([sha]);
      expect(readdirSync(staging)).toEqual([]);
    });

    it('commits the same bytes twice without harm', async () => {
      const again = await store.stage(Readable.from([bytes]), 1 << 20);
      await again.commit();
      expect((await store.list()).map((b) => b.key)).toEqual([sha]);
    });

    it('refuses a body over the limit and leaves nothing behind', async () => {
      await expect(store.stage(Readable.from([bytes]), 100)).rejects.toBeInstanceOf(BlobTooLargeError);
      expect(readdirSync(staging)).toEqual([]);
    });

    it('streams a byte range, and refuses a missing blob before the first byte (issue 11)', async () => {
      const large = Buffer.alloc(700 * 1024);
      for (let i = 0; i < large.length; i++) large[i] = (i * 7 + (i >> 10)) & 0xff;
      const staged = await store.stage(Readable.from([large]), 1 << 20);
      await staged.commit();
      const collect = async (start: number, end: number) =>
        Buffer.concat(await (await store.openRange(staged.key, start, end)).toArray());
      expect((await collect(0, large.length - 1)).equals(large)).toBe(true);
      // Across chunk boundaries, and an end past the last byte is clamped.
      expect((await collect(65_000, 600_000)).equals(large.subarray(65_000, 600_001))).toBe(true);
      expect((await collect(large.length - 10, large.length + 100)).equals(large.subarray(-10))).toBe(true);
      expect((await collect(5, 5)).equals(large.subarray(5, 6))).toBe(true);
      await expect(store.openRange('0'.repeat(64), 0, 10)).rejects.toMatchObject({ code: 'ENOENT' });
      await store.deleteIfUnreferenced(staged.key, Date.now() + 1);
    });

    it('deletes only a blob committed before the given time, and deleting twice is fine', async () => {
      const committedAt = (await store.list())[0]!.committedAt;
      expect(await store.deleteIfUnreferenced(sha, committedAt)).toBe(false);
      expect(await store.exists(sha)).toBe(true);
      expect(await store.deleteIfUnreferenced(sha, committedAt + 1)).toBe(true);
      expect(await store.deleteIfUnreferenced(sha, committedAt + 1)).toBe(false);
      expect(await store.exists(sha)).toBe(false);
      await expect(store.read(sha)).rejects.toThrow();
    });

    it('never deletes a blob an image points at', async () => {
      const again = await store.stage(Readable.from([bytes]), 1 << 20);
      await again.commit();
      await again.discard();
      await reference(sha);
      expect(await store.deleteIfUnreferenced(sha, Date.now() + 3_600_000)).toBe(false);
      expect(await store.exists(sha)).toBe(true);
    });
  });
}

contract('FsBlobStore', async (dir) => {
  const referenced = new Set<string>();
  const store = new FsBlobStore(join(dir, 'blobs'), async (key) => referenced.has(key));
  await store.init();
  return { store, staging: join(dir, 'blobs', 'staging'), reference: async (key) => void referenced.add(key) };
});

async function dbStore(dir: string, db: Database): Promise<Made> {
  await migrateToLatest(db);
  const store = new DbBlobStore(db, new StagingArea(join(dir, 'staging')), systemClock);
  await store.init();
  const reference = async (key: string) => {
    const { id } = await db
      .insertInto('platforms')
      .values({
        name: 'P',
        name_key: 'p',
        chip: null,
        access_mode: 'open',
        app_release_pinned: 0,
        created_at: 0,
        updated_at: 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('images')
      .values({
        platform_id: id,
        kind: 'app',
        version: '1',
        version_key: '1',
        chip: null,
        size: bytes.length,
        md5: '',
        sha256: key,
        appended_digest: null,
        md5_variants: null,
        analysis: '{}',
        identity_source: null,
        filename: null,
        uploaded_at: 0,
      })
      .execute();
  };
  return { store, staging: join(dir, 'staging'), reference, close: () => db.destroy() };
}

contract('DbBlobStore on SQLite', (dir) =>
  dbStore(dir, createDatabase({ kind: 'sqlite', file: join(dir, 'db.sqlite') })),
);

if (PG_URL) {
  contract('DbBlobStore on PostgreSQL', async (dir) => {
    const pg = await createPgDatabase();
    const made = await dbStore(dir, createDatabase({ kind: 'postgres', url: pg.url }));
    return { ...made, close: async () => (await made.close?.(), await pg.drop()) };
  });

  it('DbBlobStore on PostgreSQL stores bytes uncompressed, so that a range reads only its own pages (issue 11)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esp-ota-blobs-'));
    const pg = await createPgDatabase();
    const db = createDatabase({ kind: 'postgres', url: pg.url });
    try {
      const { store } = await dbStore(dir, db);
      const compressible = Buffer.alloc(1 << 20, 0xaa); // erased-flash padding compresses to almost nothing
      const staged = await store.stage(Readable.from([compressible]), 1 << 21);
      await staged.commit();
      const { rows } = await sql<{ stored: number }>`select pg_column_size(data) as stored from blobs`.execute(db);
      expect(Number(rows[0]!.stored)).toBeGreaterThanOrEqual(compressible.length);
    } finally {
      await db.destroy();
      await pg.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
} else {
  describe.skip(`DbBlobStore on PostgreSQL — ${PG_SKIP_REASON}`, () => undefined);
}

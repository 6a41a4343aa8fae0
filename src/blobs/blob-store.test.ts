import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
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

function contract(
  name: string,
  make: (dir: string) => Promise<{ store: BlobStore; staging: string; close?: () => Promise<void> }>,
) {
  describe(name, () => {
    const dir = mkdtempSync(join(tmpdir(), 'esp-ota-blobs-'));
    let store: BlobStore;
    let staging: string;
    let close: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ store, staging, close } = await make(dir));
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

    it('deletes, and deleting twice is fine', async () => {
      await store.delete(sha);
      await store.delete(sha);
      expect(await store.exists(sha)).toBe(false);
      await expect(store.read(sha)).rejects.toThrow();
    });
  });
}

contract('FsBlobStore', async (dir) => {
  const store = new FsBlobStore(join(dir, 'blobs'));
  await store.init();
  return { store, staging: join(dir, 'blobs', 'staging') };
});

async function dbStore(dir: string, db: Database) {
  await migrateToLatest(db);
  const store = new DbBlobStore(db, new StagingArea(join(dir, 'staging')), systemClock);
  await store.init();
  return { store, staging: join(dir, 'staging'), close: () => db.destroy() };
}

contract('DbBlobStore on SQLite', (dir) =>
  dbStore(dir, createDatabase({ kind: 'sqlite', file: join(dir, 'db.sqlite') })),
);

if (PG_URL) {
  contract('DbBlobStore on PostgreSQL', async (dir) => {
    const pg = await createPgDatabase();
    const made = await dbStore(dir, createDatabase({ kind: 'postgres', url: pg.url }));
    return { ...made, close: async () => (await made.close(), await pg.drop()) };
  });
} else {
  describe.skip(`DbBlobStore on PostgreSQL — ${PG_SKIP_REASON}`, () => undefined);
}

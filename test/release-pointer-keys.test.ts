import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/database.js';
import { migrateTo } from '../src/db/migrate.js';
import { createCatalogue } from '../src/features/catalogue.js';
import type { NewImage, NewPlatform } from '../src/db/tables.js';
import { createPgDatabase, describeEachStore, type StoreKind } from './helpers/test-app.js';

/** A database of its own at an older schema; `close` removes it. */
async function databaseAt(store: StoreKind, migration: string): Promise<{ db: Database; close: () => Promise<void> }> {
  let db: Database;
  let remove: () => Promise<void> | void;
  if (store === 'postgres') {
    const pgDb = await createPgDatabase();
    db = createDatabase({ kind: 'postgres', url: pgDb.url });
    remove = pgDb.drop;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'esp-ota-migration-'));
    db = createDatabase({ kind: 'sqlite', file: join(dir, 'test.sqlite') });
    remove = () => rmSync(dir, { recursive: true, force: true });
  }
  await migrateTo(db, migration);
  return {
    db,
    close: async () => {
      await db.destroy();
      await remove();
    },
  };
}

const platform = (name: string): NewPlatform => ({
  name,
  name_key: name.toLowerCase(),
  chip: 'esp8266',
  access_mode: 'open',
  released_app_id: null,
  released_fs_id: null,
  app_release_pinned: 1,
  fs_partition_size: 65536,
  device_auth: 'basic',
  device_user: 'fleet',
  device_secret_hash: 'ab'.repeat(32),
  created_at: 1000,
  updated_at: 2000,
});

const image = (platformId: number, kind: 'app' | 'filesystem', version: string): NewImage => ({
  platform_id: platformId,
  kind,
  version,
  version_key: version,
  chip: 'esp8266',
  size: 4,
  md5: '0'.repeat(32),
  sha256: `${version}`.padEnd(64, '0'),
  appended_digest: null,
  md5_variants: null,
  analysis: '{}',
  identity_source: 'marker',
  filename: null,
  uploaded_at: 3000,
});

describeEachStore('issue 11.3: the release pointers are foreign keys (migration 005)', (store) => {
  it('keeps every row, clears pointers to deleted images, and then refuses to delete a released image', async () => {
    const { db, close } = await databaseAt(store, '003-events-without-mac-index');
    try {
      const { stores, transact } = createCatalogue(db);
      const fleet = await stores.platforms.insert(platform('Fleet'));
      const app = await stores.images.insert(image(fleet.id, 'app', '1.0.0'));
      const fs = await stores.images.insert(image(fleet.id, 'filesystem', '1.0.0'));
      await stores.images.insert(image(fleet.id, 'app', '0.9.0'));
      await stores.platforms.update(fleet.id, { released_app_id: app.id, released_fs_id: fs.id });
      await stores.allowlist.upsert({ platform_id: fleet.id, mac: '5ccf7f123456', label: 'hall', created_at: 1 });
      // What the release/delete race left: a pointer to an image that is gone.
      const broken = await stores.platforms.insert(platform('Broken'));
      const gone = await stores.images.insert(image(broken.id, 'app', '2.0.0'));
      await stores.platforms.update(broken.id, { released_app_id: gone.id });
      await stores.images.delete(gone.id);
      const deleted = await stores.platforms.insert(platform('Deleted'));
      // Deleted as the code of that time did (today's store also unpairs later columns this schema does not have).
      await db.deleteFrom('platforms').where('id', '=', deleted.id).execute();
      const before = await stores.platforms.list();

      await migrateTo(db, '005-release-pointer-keys'); // this test is about that migration, not later ones

      expect(await stores.platforms.list()).toEqual(
        before.map((p) => (p.id === broken.id ? { ...p, released_app_id: null } : p)),
      );
      expect(await stores.images.listForPlatform(fleet.id)).toHaveLength(3);
      expect(await stores.allowlist.list(fleet.id)).toHaveLength(1);
      // A deleted platform's id is not given out again.
      expect((await stores.platforms.insert(platform('New'))).id).toBeGreaterThan(deleted.id);

      await expect(stores.images.delete(app.id)).rejects.toMatchObject({ code: 'image-released' });
      await expect(stores.images.delete(fs.id)).rejects.toMatchObject({ code: 'image-released' });
      await expect(transact((s) => s.platforms.update(broken.id, { released_app_id: gone.id }))).rejects.toMatchObject({
        code: 'unknown-image',
      });
      // A platform goes with its released images.
      await db.deleteFrom('platforms').where('id', '=', fleet.id).execute();
      expect(await stores.images.listForPlatform(fleet.id)).toEqual([]);
      if (store === 'sqlite') expect((await sql`pragma foreign_key_check`.execute(db)).rows).toEqual([]);
    } finally {
      await close();
    }
  });
});

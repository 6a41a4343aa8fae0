import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BlobStore } from './blobs/blob-store.js';
import { DbBlobStore } from './blobs/db-blob-store.js';
import { FsBlobStore } from './blobs/fs-blob-store.js';
import { StagingArea } from './blobs/staging-area.js';
import { databaseFile, type Config } from './config.js';
import { createDatabase, type Database } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { createCatalogue, type Catalogue } from './features/catalogue.js';
import type { Clock } from './lib/clock.js';

export interface Storage {
  db: Database;
  catalogue: Catalogue;
  blobs: BlobStore;
}

/**
 * Database (migrated) and blob store for a configuration: what the server and the offline commands (export, import)
 * share. SQLite keeps firmware files beside the database; PostgreSQL keeps the bytes in the database, so that
 * instances share them.
 */
export async function openStorage(config: Config, logger: Logger, clock: Clock): Promise<Storage> {
  const db = createDatabase(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'sqlite', file: databaseFile(config) },
    (err) => logger.warn({ err }, 'an idle database connection failed; it will be replaced'),
  );
  await migrateToLatest(db);
  const catalogue = createCatalogue(db);
  const blobs = config.databaseUrl
    ? new DbBlobStore(db, new StagingArea(join(config.data, 'staging')), clock)
    : new FsBlobStore(join(config.data, 'blobs'), (key) => catalogue.stores.images.references(key));
  await blobs.init();
  return { db, catalogue, blobs };
}

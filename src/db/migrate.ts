import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { Database } from './database.js';
import * as initial from './migrations/001-initial.js';
import * as peopleAndDeviceAuth from './migrations/002-people-and-device-auth.js';
import * as eventsWithoutMacIndex from './migrations/003-events-without-mac-index.js';
import * as uncompressedBlobs from './migrations/005-uncompressed-blobs.js';
import * as honestDeviceRecords from './migrations/006-honest-device-records.js';

/** Migrations are listed here in order (no directory scanning, so the build output needs nothing else). */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-people-and-device-auth': peopleAndDeviceAuth,
  '003-events-without-mac-index': eventsWithoutMacIndex,
  '005-uncompressed-blobs': uncompressedBlobs,
  '006-honest-device-records': honestDeviceRecords,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema up to date. Kysely's migrator takes a lock, so several instances may start at once. */
export async function migrateToLatest(db: Database): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${cause}`);
  }
}

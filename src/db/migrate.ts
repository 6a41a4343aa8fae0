import { type Migration, type MigrationProvider, type MigrationResultSet, Migrator } from 'kysely';
import type { Database } from './database.js';
import * as initial from './migrations/001-initial.js';
import * as peopleAndDeviceAuth from './migrations/002-people-and-device-auth.js';
import * as eventsWithoutMacIndex from './migrations/003-events-without-mac-index.js';
import * as eventsWithoutSecrets from './migrations/004-events-without-secrets.js';
import * as releasePointerKeys from './migrations/005-release-pointer-keys.js';
import * as uncompressedBlobs from './migrations/006-uncompressed-blobs.js';
import * as honestDeviceRecords from './migrations/007-honest-device-records.js';
import * as rolloutsAndFleet from './migrations/008-rollouts-and-fleet.js';
import * as operatorReadIndexes from './migrations/009-operator-read-indexes.js';
import * as deviceKeys from './migrations/010-device-keys.js';
import * as installAssets from './migrations/011-install-assets.js';
import * as arduinoClientSettings from './migrations/012-arduino-client-settings.js';
import * as platformKeys from './migrations/013-platform-keys.js';
import * as webhooks from './migrations/014-webhooks.js';

/** Migrations are listed here in order (no directory scanning, so the build output needs nothing else). */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-people-and-device-auth': peopleAndDeviceAuth,
  '003-events-without-mac-index': eventsWithoutMacIndex,
  '004-events-without-secrets': eventsWithoutSecrets,
  '005-release-pointer-keys': releasePointerKeys,
  '006-uncompressed-blobs': uncompressedBlobs,
  '007-honest-device-records': honestDeviceRecords,
  '008-rollouts-and-fleet': rolloutsAndFleet,
  '009-operator-read-indexes': operatorReadIndexes,
  '010-device-keys': deviceKeys,
  '011-install-assets': installAssets,
  '012-arduino-client-settings': arduinoClientSettings,
  '013-platform-keys': platformKeys,
  '014-webhooks': webhooks,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema up to date. Kysely's migrator takes a lock, so several instances may start at once. */
export function migrateToLatest(db: Database): Promise<void> {
  return migrate(db, (migrator) => migrator.migrateToLatest());
}

/** Brings the schema to the named migration: where tests of a later migration start from. */
export function migrateTo(db: Database, name: keyof typeof MIGRATIONS): Promise<void> {
  return migrate(db, (migrator) => migrator.migrateTo(name));
}

async function migrate(db: Database, run: (migrator: Migrator) => Promise<MigrationResultSet>): Promise<void> {
  const { error, results } = await run(new Migrator({ db, provider }));
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${cause}`);
  }
}

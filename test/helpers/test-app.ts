import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { describe } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp, type App } from '../../src/compose.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { TEST_ADMIN_PASSWORD, TEST_TOKEN } from './http.js';

/** PostgreSQL tests run when this names a server (CI sets it); each test app gets a database of its own. */
export const PG_URL = process.env.ESP_OTA_TEST_PG_URL;
if (!PG_URL && process.env.CI) {
  throw new Error('ESP_OTA_TEST_PG_URL is not set: CI must run the PostgreSQL tests, not skip them');
}
export const PG_SKIP_REASON =
  'PostgreSQL tests skipped: set ESP_OTA_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test)';

export type StoreKind = 'sqlite' | 'postgres';

export interface TestApp {
  app: App;
  url: string;
  dataDir: string;
  /** Where uploads in progress are written (beside the blobs with SQLite, in the data folder with PostgreSQL). */
  stagingDir: string;
  stop(): Promise<void>;
}

let databases = 0;

export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `esp_ota_test_${process.pid}_${Date.now()}_${databases++}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A migrated database of its own on the given store, without a server; `close` destroys it. */
export async function openTestDatabase(
  store: StoreKind,
  options: { poolSize?: number } = {},
): Promise<{ db: Database; close: () => Promise<void> }> {
  let db: Database;
  let remove: () => Promise<void> | void;
  if (store === 'postgres') {
    const pgDb = await createPgDatabase();
    db = createDatabase({ kind: 'postgres', url: pgDb.url, ...options });
    remove = pgDb.drop;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'esp-ota-db-'));
    db = createDatabase({ kind: 'sqlite', file: join(dir, 'test.sqlite') });
    remove = () => rmSync(dir, { recursive: true, force: true });
  }
  await migrateToLatest(db);
  return {
    db,
    close: async () => {
      await db.destroy();
      await remove();
    },
  };
}

/** An open platform with no images, written straight into a migrated database: its id. */
export async function insertTestPlatform(db: Database, name: string): Promise<number> {
  const row = await db
    .insertInto('platforms')
    .values({
      name,
      name_key: name.toLowerCase(),
      chip: null,
      access_mode: 'open',
      released_app_id: null,
      released_fs_id: null,
      app_release_pinned: 0,
      fs_partition_size: null,
      device_user: null,
      device_secret_hash: null,
      created_at: 1,
      updated_at: 1,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/**
 * A real server on a real socket (127.0.0.1, random port) over a fresh data folder and database; silent unless a
 * logger is given. `reachDatabase`
 * turns the PostgreSQL URL into the one the server uses (e.g. through a proxy the test can cut).
 */
export async function startTestApp(
  store: StoreKind,
  overrides: Partial<Config> = {},
  options: { logger?: Logger; reachDatabase?: (url: string) => string } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'esp-ota-test-'));
  const pgDb = store === 'postgres' ? await createPgDatabase() : undefined;
  const config: Config = {
    ...loadConfig({ env: {} }),
    port: 0,
    host: '127.0.0.1',
    data: dataDir,
    databaseUrl: pgDb ? (options.reachDatabase ?? String)(pgDb.url) : '',
    eventFlushMs: 50,
    catalogueRefreshMs: 60_000,
    apiToken: TEST_TOKEN,
    adminPassword: TEST_ADMIN_PASSWORD,
    ...overrides,
  };
  const app = await createApp(config, { logger: options.logger ?? pino({ level: 'silent' }) });
  const url = await app.listen();
  return {
    app,
    url,
    dataDir,
    stagingDir: store === 'postgres' ? join(dataDir, 'staging') : join(dataDir, 'blobs', 'staging'),
    stop: async () => {
      await app.close();
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a suite against SQLite, and against PostgreSQL when a server is configured (otherwise it says why not). */
export function describeEachStore(name: string, suite: (store: StoreKind) => void): void {
  describe(`${name} [sqlite]`, () => suite('sqlite'));
  if (PG_URL) describe(`${name} [postgres]`, () => suite('postgres'));
  else describe.skip(`${name} [postgres] — ${PG_SKIP_REASON}`, () => suite('postgres'));
}

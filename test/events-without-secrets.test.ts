import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/database.js';
import { migrateTo, migrateToLatest } from '../src/db/migrate.js';
import { createPgDatabase, describeEachStore } from './helpers/test-app.js';

/**
 * Issue 11.2: servers before the fix wrote a platform change's request body, device secret included, into the
 * event's detail. Upgrading removes those secrets from the log that is already there.
 */
describeEachStore('migration 004 removes device secrets from old events (issue 11.2)', (store) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function databaseAt003(): Promise<Database> {
    let db: Database;
    if (store === 'postgres') {
      const pgDb = await createPgDatabase();
      db = createDatabase({ kind: 'postgres', url: pgDb.url });
      cleanup = async () => {
        await db.destroy();
        await pgDb.drop();
      };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'esp-ota-migrate-'));
      db = createDatabase({ kind: 'sqlite', file: join(dir, 'test.sqlite') });
      cleanup = async () => {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      };
    }
    await migrateTo(db, '003-events-without-mac-index');
    return db;
  }

  it('rewrites platform-updated details that carry a secret and leaves every other event alone', async () => {
    const db = await databaseAt003();
    const event = (type: string, detail: string | null) => ({
      at: 1,
      type,
      platform_name: 'Lamp',
      mac: null,
      from_version: null,
      to_version: null,
      decision: null,
      reason: 'api',
      detail,
    });
    await db
      .insertInto('events')
      .values([
        event(
          'platform-updated',
          JSON.stringify({ deviceSecret: 'old-leaked-secret-0123456789', deviceAuth: 'token' }),
        ),
        event('platform-updated', JSON.stringify({ deviceSecret: null })),
        event('platform-updated', JSON.stringify({ accessMode: 'open' })),
        event('platform-updated', 'not json, mentions deviceSecret'),
        event('upload', 'deviceSecret.bin'),
      ])
      .execute();

    await migrateToLatest(db);

    const details = (await db.selectFrom('events').select(['type', 'detail']).orderBy('id').execute()).map(
      (e) => e.detail,
    );
    expect(details).toEqual([
      'deviceAuth: token; device secret changed',
      'device secret removed',
      '{"accessMode":"open"}',
      'not json, mentions deviceSecret',
      'deviceSecret.bin',
    ]);
  });
});

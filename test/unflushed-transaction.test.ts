import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { createCatalogue, type Catalogue } from '../src/features/catalogue.js';
import { describeEachStore, openTestDatabase } from './helpers/test-app.js';

const event = (detail: string) => ({
  at: 1,
  type: 'check',
  platform_name: 'P',
  mac: null,
  from_version: null,
  to_version: null,
  decision: 'not-modified',
  reason: 'current',
  detail,
});

/** The setting that decides whether a commit waits for the disk, as the connection running `db` sees it. */
async function durability(db: Database, postgres: boolean): Promise<string> {
  if (postgres) {
    const { rows } = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db);
    return rows[0]!.synchronous_commit;
  }
  const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
  return ['off', 'normal', 'full', 'extra'][rows[0]!.synchronous]!;
}

// Device activity commits without waiting for the disk; catalogue writes must never inherit that.
describeEachStore('unflushed transactions', (store) => {
  const postgres = store === 'postgres';
  const usual = postgres ? 'on' : 'full';
  const relaxed = postgres ? 'off' : 'normal';
  let db: Database;
  let catalogue: Catalogue;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    // One PostgreSQL connection, so that a setting left behind would show in the next transaction.
    ({ db, close: cleanup } = await openTestDatabase(store, { poolSize: 1 }));
    catalogue = createCatalogue(db);
  });
  afterAll(() => cleanup());

  it('relaxes durability for its own work only, and commits that work', async () => {
    const inside = await catalogue.transactUnflushed(async (stores) => {
      await stores.events.append([event('kept')]);
      return durability(connectionOf(stores), postgres);
    });
    expect(inside).toBe(relaxed);
    expect(await durability(db, postgres)).toBe(usual);
    expect((await catalogue.stores.events.list({ limit: 10 })).map((e) => e.detail)).toEqual(['kept']);
  });

  it('rolls back and restores durability when the work fails', async () => {
    await expect(
      catalogue.transactUnflushed(async (stores) => {
        await stores.events.append([event('rolled back')]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await catalogue.transact((stores) => durability(connectionOf(stores), postgres))).toBe(usual);
    expect((await catalogue.stores.events.list({ limit: 10 })).map((e) => e.detail)).not.toContain('rolled back');
  });

  it('never lends its relaxed connection to a catalogue write that arrives meanwhile', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const activity = catalogue.transactUnflushed(async (stores) => {
      await stores.events.append([event('activity')]);
      await held;
    });
    const write = catalogue.transact((stores) => durability(connectionOf(stores), postgres));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await activity;
    expect(await write).toBe(usual);
  });
});

/** The transaction a store runs in (a test-only look inside: the stores do not hand it out). */
function connectionOf(stores: Catalogue['stores']): Database {
  return (stores.events as unknown as { db: Database }).db;
}

import { sql } from 'kysely';
import type { Database } from './database.js';
import { isPostgres } from './schema-helpers.js';
import { AllowlistStore } from '../features/allowlist/allowlist-store.js';
import { DeviceStore } from '../features/devices/device-store.js';
import { EventStore } from '../features/events/event-store.js';
import { ImageStore } from '../features/firmware/image-store.js';
import { PlatformStore } from '../features/platforms/platform-store.js';

export interface Stores {
  platforms: PlatformStore;
  allowlist: AllowlistStore;
  images: ImageStore;
  devices: DeviceStore;
  events: EventStore;
}

/** The stores over one database, and a way to run work on all of them in one transaction. */
export interface Catalogue {
  stores: Stores;
  transact<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
  /**
   * A transaction whose commit does not wait for the disk: for device activity, which may lose its last moments to
   * a power cut or an operating-system crash (never to a crash of this process, and never half a transaction), so
   * that writing it does not stall the event loop on a flush to disk several times a second (on slow storage such
   * as an SD card, tens of milliseconds each). Catalogue data always goes through `transact`.
   */
  transactUnflushed<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
}

function storesOver(db: Database): Stores {
  return {
    platforms: new PlatformStore(db),
    allowlist: new AllowlistStore(db),
    images: new ImageStore(db),
    devices: new DeviceStore(db),
    events: new EventStore(db),
  };
}

export function createCatalogue(db: Database): Catalogue {
  return {
    stores: storesOver(db),
    transact: (work) => db.transaction().execute((trx) => work(storesOver(trx))),
    transactUnflushed: (work) => (isPostgres(db) ? unflushedOnPostgres(db, work) : unflushedOnSqlite(db, work)),
  };
}

/** PostgreSQL: asynchronous commit for this transaction only (SET LOCAL ends with it). */
function unflushedOnPostgres<T>(db: Database, work: (stores: Stores) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set local synchronous_commit = off`.execute(trx);
    return work(storesOver(trx));
  });
}

/**
 * SQLite: `synchronous` is a setting of the connection, not of a transaction, so it is lowered for this one on a
 * connection held throughout (nothing else can run on it meanwhile) and restored before the connection is let go.
 * In WAL mode NORMAL skips the flush at commit; the next FULL commit flushes these pages with its own.
 */
function unflushedOnSqlite<T>(db: Database, work: (stores: Stores) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(connection);
    const usual = rows[0]!.synchronous;
    await sql`pragma synchronous = NORMAL`.execute(connection);
    try {
      return await connection.transaction().execute((trx) => work(storesOver(trx)));
    } finally {
      await sql.raw(`pragma synchronous = ${Number(usual)}`).execute(connection);
    }
  });
}

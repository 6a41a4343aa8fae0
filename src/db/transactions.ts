import { sql } from 'kysely';
import type { Database } from './database.js';
import { isPostgres } from './schema-helpers.js';

/** Work on one transaction; `trx` is used like the database itself. */
export type TransactionWork<T> = (trx: Database) => Promise<T>;

/** Runs `work` in one transaction whose commit waits for the disk. */
export function transact<T>(db: Database, work: TransactionWork<T>): Promise<T> {
  return db.transaction().execute(work);
}

/**
 * A transaction whose commit does not wait for the disk: for device activity, which may lose its last moments to
 * a power cut or an operating-system crash (never to a crash of this process, and never half a transaction), so
 * that writing it does not stall the event loop on a flush to disk several times a second (on slow storage such
 * as an SD card, tens of milliseconds each). Catalogue data always goes through `transact`.
 */
export function transactUnflushed<T>(db: Database, work: TransactionWork<T>): Promise<T> {
  return isPostgres(db) ? unflushedOnPostgres(db, work) : unflushedOnSqlite(db, work);
}

/** PostgreSQL: asynchronous commit for this transaction only (SET LOCAL ends with it). */
function unflushedOnPostgres<T>(db: Database, work: TransactionWork<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set local synchronous_commit = off`.execute(trx);
    return work(trx);
  });
}

/**
 * SQLite: `synchronous` is a setting of the connection, not of a transaction, so it is lowered for this one on a
 * connection held throughout (nothing else can run on it meanwhile) and restored before the connection is let go.
 * In WAL mode NORMAL skips the flush at commit; the next FULL commit flushes these pages with its own.
 */
function unflushedOnSqlite<T>(db: Database, work: TransactionWork<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(connection);
    const usual = rows[0]!.synchronous;
    await sql`pragma synchronous = NORMAL`.execute(connection);
    try {
      return await connection.transaction().execute(work);
    } finally {
      await sql.raw(`pragma synchronous = ${Number(usual)}`).execute(connection);
    }
  });
}

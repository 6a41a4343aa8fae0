import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { isPostgres } from '../../db/schema-helpers.js';

/** The advisory lock every instance on one PostgreSQL database takes for a maintenance pass ("esp-ota" + 1). */
export const MAINTENANCE_LOCK = 0x6573702d6f7461n + 1n;

export type Exclusive<T> = { ran: true; result: T } | { ran: false };

/**
 * Runs `work` unless another instance on the same PostgreSQL database is running it: a session-level
 * `pg_try_advisory_lock` on a connection held for the pass (the work itself uses the pool). An instance that finds
 * the lock taken skips its pass; the next interval tries again. A crashed holder's lock ends with its connection.
 * SQLite has one process per database file: the work just runs.
 */
export async function onceAcrossInstances<T>(db: Database, work: () => Promise<T>): Promise<Exclusive<T>> {
  if (!isPostgres(db)) return { ran: true, result: await work() };
  return db.connection().execute(async (connection) => {
    const { rows } = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_lock(${String(MAINTENANCE_LOCK)}::bigint) as locked`.execute(connection);
    if (!rows[0]?.locked) return { ran: false } as const;
    try {
      return { ran: true, result: await work() } as const;
    } finally {
      // On a connection that died meanwhile the lock is already gone with it.
      await sql`select pg_advisory_unlock(${String(MAINTENANCE_LOCK)}::bigint)`
        .execute(connection)
        .catch(() => undefined);
    }
  });
}

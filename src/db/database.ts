import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { withStatementCache } from './statement-cache.js';
import type { Tables } from './tables.js';

export type DatabaseConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; poolSize?: number };

export type Database = Kysely<Tables>;

// PostgreSQL returns bigint (int8) columns as strings; our bigints are times and sizes, well within 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createDatabase(
  config: DatabaseConfig,
  onIdleError: (error: Error) => void = () => undefined,
): Database {
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize ?? 10 });
    // An idle connection dropped by the server (restart, failover) is an 'error' event; unhandled, it would end the
    // process. The pool replaces the connection on the next query.
    pool.on('error', onIdleError);
    return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  }
  if (config.file !== ':memory:') mkdirSync(dirname(config.file), { recursive: true });
  const sqlite = new SQLite(config.file);
  // WAL lets device checks read while a write commits; FULL sync makes an acknowledged commit survive power loss.
  // Set before the first table exists, so maintenance can return freed pages to the file system.
  sqlite.pragma('auto_vacuum = INCREMENTAL');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  sqliteHandles.set(db, sqlite);
  return db;
}

/** The better-sqlite3 handle behind each SQLite database, for the one statement Kysely cannot run whole. */
const sqliteHandles = new WeakMap<Database, SQLite.Database>();

/**
 * SQLite: hands every free page back to the file system and truncates the write-ahead log; PostgreSQL's autovacuum
 * does this by itself. `PRAGMA incremental_vacuum` frees one page per step of its statement, and Kysely runs a
 * statement that returns no columns with a single step, so through Kysely it would free one page per call; the
 * handle's `pragma()` steps it to the end. It runs on the connection Kysely reserves for it, so that it is never
 * part of another caller's open transaction.
 */
export async function reclaimFreePages(db: Database): Promise<void> {
  const sqlite = sqliteHandles.get(db);
  if (!sqlite) return;
  await db.connection().execute(async () => {
    sqlite.pragma('incremental_vacuum');
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  });
}

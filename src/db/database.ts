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
  return new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

import { makeFolder } from '../lib/make-folder.js';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  type DatabaseConnection,
  Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';
import pg from 'pg';
import { withStatementCache } from './statement-cache.js';
import type { Tables } from './tables.js';

export type DatabaseConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; poolSize?: number };

export type Database = Kysely<Tables>;

// PostgreSQL returns bigint (int8) columns as strings; our bigints are times and sizes, well within 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** How long a query waits for a connection (a free one from the pool, or a new one) before it fails with a 503. */
const CONNECT_TIMEOUT_MS = 10_000;

export function createDatabase(
  config: DatabaseConfig,
  onIdleError: (error: Error) => void = () => undefined,
): Database {
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // An idle connection dropped by the server (restart, failover) is an 'error' event; unhandled, it would end the
    // process. The pool replaces the connection on the next query.
    pool.on('error', onIdleError);
    // A connection in use has no listener of the pool's, so the same event would end the process while a request or
    // a batch of device activity holds it. The work on it fails with the server's error instead (the query running
    // then, or the next one: "not queryable"), and the pool discards the connection when it is given back.
    pool.on('connect', (client) => client.on('error', () => undefined));
    return new Kysely<Tables>({ dialect: new PostgresDialectKeepingErrors({ pool }) });
  }
  if (config.file !== ':memory:') makeFolder(dirname(config.file));
  const sqlite = new SQLite(config.file);
  // WAL lets device checks read while a write commits; FULL sync makes an acknowledged commit survive power loss.
  // Set before the first table exists, so maintenance can return freed pages to the file system.
  sqlite.pragma('auto_vacuum = INCREMENTAL');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Tables>({
    dialect: new SqliteDialectKeepingErrors({ database: withStatementCache(sqlite) }, sqlite),
  });
  sqliteHandles.set(db, sqlite);
  return db;
}

/*
 * When a transaction fails, Kysely rolls it back and, should the rollback fail too, throws the rollback's error
 * instead of the one that caused it. Both stores have such rollbacks: SQLite ends the transaction by itself on some
 * errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, RAISE(ROLLBACK) in a trigger), after which the rollback fails with
 * "cannot rollback - no transaction is active"; on PostgreSQL a dropped connection cannot roll back. These drivers
 * let the original error through.
 */

class SqliteDialectKeepingErrors extends SqliteDialect {
  constructor(
    private readonly settings: SqliteDialectConfig,
    private readonly sqlite: SQLite.Database,
  ) {
    super(settings);
  }

  override createDriver(): SqliteDriver {
    return new SqliteDriverKeepingErrors(this.settings, this.sqlite);
  }
}

class SqliteDriverKeepingErrors extends SqliteDriver {
  constructor(
    settings: SqliteDialectConfig,
    private readonly sqlite: SQLite.Database,
  ) {
    super(settings);
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.sqlite.inTransaction) await super.rollbackTransaction(connection);
  }
}

class PostgresDialectKeepingErrors extends PostgresDialect {
  constructor(private readonly settings: PostgresDialectConfig) {
    super(settings);
  }

  override createDriver(): PostgresDriver {
    return new PostgresDriverKeepingErrors(this.settings);
  }
}

class PostgresDriverKeepingErrors extends PostgresDriver {
  override async rollbackTransaction(connection: Parameters<PostgresDriver['rollbackTransaction']>[0]): Promise<void> {
    // The driver discards a connection whose rollback failed: it is never handed out again inside the transaction.
    await super.rollbackTransaction(connection).catch(() => undefined);
  }
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

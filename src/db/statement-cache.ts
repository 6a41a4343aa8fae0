import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * better-sqlite3 behind Kysely, keeping the most recently used prepared statements. Kysely prepares every query
 * it runs; for the statements that run all day (device activity, the catalogue reload) parsing the SQL again each
 * time costs more than executing it. A statement is reused only when it is not in the middle of iterating rows.
 */
export function withStatementCache(database: SQLite.Database, capacity = 64): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      const cached = statements.get(sql);
      if (cached && !cached.busy) {
        statements.delete(sql);
        statements.set(sql, cached); // most recently used goes last
        return cached;
      }
      const statement = database.prepare(sql);
      if (!cached) {
        statements.set(sql, statement);
        if (statements.size > capacity) statements.delete(statements.keys().next().value!);
      }
      return statement;
    },
  };
}

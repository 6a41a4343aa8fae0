import { type CreateTableBuilder, type Kysely, PostgresAdapter } from 'kysely';

/**
 * An auto-incrementing integer primary key: the one column type SQLite and PostgreSQL spell differently
 * (`integer primary key autoincrement` vs `serial`).
 */
export function addIdColumn(db: Kysely<unknown>) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return <T extends string>(table: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'> =>
    postgres
      ? table.addColumn('id', 'serial', (c) => c.primaryKey())
      : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

export function isPostgres(db: { getExecutor(): { adapter: unknown } }): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Column type for raw bytes: `blob` in SQLite, `bytea` in PostgreSQL. */
export function binaryType(db: Kysely<unknown>): 'blob' | 'bytea' {
  return isPostgres(db) ? 'bytea' : 'blob';
}

import { CompiledQuery, type Compilable } from 'kysely';
import type { DialectAdapter } from 'kysely';
import type { Database } from './database.js';

/**
 * Many rows into one table through a few fixed-size statements whose SQL is built once. Device activity arrives
 * thousands of rows a second; compiling each batch anew (Kysely walks every value, the database parses the text)
 * cost more than the inserts themselves. Only the values change between batches, so the SQL is kept per statement
 * size and dialect (and SQLite keeps the prepared statements, see statement-cache.ts).
 */
export class BulkInsert<Row extends object> {
  private readonly sqlByDialect = new WeakMap<DialectAdapter, Map<number, string>>();

  /**
   * @param columns every column a row sets, in the order the statement binds them
   * @param build the statement for some rows, e.g. with an ON CONFLICT clause; it must bind the row values only
   * @param sizes statement sizes, largest first; the last must be 1 so that every row count can be written
   * @param defaults values for columns a row leaves out (undefined), where null would not do (NOT NULL columns)
   */
  constructor(
    private readonly columns: readonly (keyof Row & string)[],
    private readonly build: (db: Database, rows: Row[]) => Compilable,
    private readonly sizes: readonly number[] = [256, 16, 1],
    private readonly defaults: Partial<Record<keyof Row & string, unknown>> = {},
  ) {
    if (sizes.at(-1) !== 1) throw new Error('the smallest statement size must be 1');
  }

  async run(db: Database, rows: readonly Row[]): Promise<void> {
    let offset = 0;
    for (const size of this.sizes) {
      for (; rows.length - offset >= size; offset += size) {
        const parameters: unknown[] = [];
        for (let r = offset; r < offset + size; r++) {
          const row = rows[r] as Record<string, unknown>;
          for (const column of this.columns) parameters.push(row[column] ?? this.defaults[column] ?? null);
        }
        await db.executeQuery(CompiledQuery.raw(this.sql(db, size), parameters));
      }
    }
  }

  private sql(db: Database, size: number): string {
    const adapter = db.getExecutor().adapter;
    let bySize = this.sqlByDialect.get(adapter);
    if (!bySize) this.sqlByDialect.set(adapter, (bySize = new Map()));
    let text = bySize.get(size);
    if (text === undefined) {
      text = this.compileChecked(db, size);
      bySize.set(size, text);
    }
    return text;
  }

  /** Compiles the statement with a unique marker per value and checks that it binds them row after row. */
  private compileChecked(db: Database, size: number): string {
    const markers = Array.from({ length: size }, (_, r) =>
      Object.fromEntries(this.columns.map((column) => [column, `\u0000${r}:${column}`])),
    );
    const compiled = this.build(db, markers as Row[]).compile();
    const expected = markers.flatMap((row) => this.columns.map((column) => row[column]));
    const actual = compiled.parameters;
    if (actual.length !== expected.length || actual.some((value, i) => value !== expected[i])) {
      // Values bound in another order would land in the wrong columns: refuse rather than corrupt rows.
      throw new Error(`the bulk statement does not bind one value per column, row after row: ${compiled.sql}`);
    }
    return compiled.sql;
  }
}

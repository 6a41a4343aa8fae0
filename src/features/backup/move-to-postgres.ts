import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { Database } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 30_000;
/** Rows read from SQLite at a time. */
const READ_PAGE = 2_000;

export interface MoveReport {
  /** Rows copied per table, each verified by counting it on both sides. */
  tables: { name: string; rows: number }[];
  /** Firmware files moved into the `blobs` table, each verified by its SHA-256 computed by PostgreSQL. */
  blobs: number;
  blobBytes: number;
}

type Row = Record<string, unknown>;

/** The target cannot take the move (not empty, or not this schema); nothing was written. */
export class MoveRefused extends Error {}

/**
 * Moves an embedded store (SQLite file plus firmware files) into an empty PostgreSQL database or schema, in one
 * transaction there: every table of the SQLite schema, found from the schema itself (so tables added by later
 * migrations are moved too), in foreign-key order; then the firmware files into `blobs`; then the counts of every
 * table and the digest of every blob are compared, and anything amiss rolls the whole move back. The source is only
 * read.
 */
export async function moveToPostgres(
  source: Database,
  sourceBlobs: BlobStore,
  target: Database,
  progress: (line: string) => void = () => undefined,
): Promise<MoveReport> {
  await migrateToLatest(target);
  const { tables, deferred } = await sourceTables(source);
  const targetColumns = await columnsOf(target);
  for (const table of tables) {
    if (!targetColumns.has(table)) throw new MoveRefused(`the target has no table "${table}"`);
  }
  const nonEmpty = [];
  for (const table of targetColumns.keys()) if ((await count(target, table)) > 0) nonEmpty.push(table);
  if (nonEmpty.length > 0) {
    throw new MoveRefused(`the target is not empty (rows in ${nonEmpty.join(', ')}); move into an empty one`);
  }

  return target.transaction().execute(async (trx) => {
    const report: MoveReport = { tables: [], blobs: 0, blobBytes: 0 };
    for (const table of tables) {
      const columns = targetColumns.get(table)!;
      const later = deferred.filter((d) => d.table === table).map((d) => d.column);
      const rows = await copyTable(source, trx, table, columns, later);
      progress(`${table}: ${rows} rows`);
      report.tables.push({ name: table, rows });
    }
    await fillDeferred(source, trx, deferred);
    await resetSequences(trx);
    await moveBlobs(source, sourceBlobs, trx, report);
    progress(`blobs: ${report.blobs} firmware files, ${report.blobBytes} bytes`);
    await verify(source, trx, report);
    return report;
  });
}

/** A foreign key that closes a cycle (platforms → released image → platform): filled in after every table is in. */
interface DeferredKey {
  table: string;
  column: string;
}

/**
 * The SQLite tables to move, parents before the tables that refer to them. A key that closes a cycle is deferred:
 * its column is copied as null and set once the rows it names are in.
 */
async function sourceTables(source: Database): Promise<{ tables: string[]; deferred: DeferredKey[] }> {
  const { rows } = await sql<{ name: string }>`
    select name from sqlite_master
    where type = 'table' and substr(name, 1, 7) not in ('sqlite_', 'kysely_')
    order by name`.execute(source);
  const names = rows.map((r) => r.name);
  const keys = new Map<string, { table: string; from: string; nullable: boolean }[]>();
  for (const name of names) {
    const { rows: found } = await sql<{ table: string; from: string; notnull: number }>`
      select k."table", k."from", c."notnull" from pragma_foreign_key_list(${name}) k
      join pragma_table_info(${name}) c on c.name = k."from"`.execute(source);
    keys.set(
      name,
      found.filter((k) => k.table !== name && names.includes(k.table)).map((k) => ({ ...k, nullable: !k.notnull })),
    );
  }
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (from === to) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return (keys.get(from) ?? []).some((k) => reaches(k.table, to, seen));
  };
  // A nullable key whose table is reachable back from the table it names closes a cycle: it is set last.
  const deferred: DeferredKey[] = [];
  for (const [name, found] of keys) {
    for (const key of found)
      if (key.nullable && reaches(key.table, name)) deferred.push({ table: name, column: key.from });
  }
  const ordered: string[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (ordered.includes(name) || path.has(name)) return;
    path.add(name);
    for (const key of keys.get(name) ?? []) {
      if (!deferred.some((d) => d.table === name && d.column === key.from)) visit(key.table, path);
    }
    path.delete(name);
    ordered.push(name);
  };
  for (const name of names) visit(name, new Set());
  return { tables: ordered, deferred };
}

/** Sets the deferred key columns from the source, row by row by primary key (they are few: release pointers). */
async function fillDeferred(source: Database, target: Database, deferred: DeferredKey[]): Promise<void> {
  for (const { table, column } of deferred) {
    const { rows: info } = await sql<{ name: string; pk: number }>`
      select name, pk from pragma_table_info(${table}) where pk > 0 order by pk`.execute(source);
    const primary = info.map((c) => c.name);
    if (primary.length === 0) throw new Error(`${table} has no primary key to set ${column} by`);
    const { rows } = await sql<Row>`
      select ${sql.join([...primary, column].map((c) => sql.ref(c)))} from ${sql.table(table)}
      where ${sql.ref(column)} is not null`.execute(source);
    for (const row of rows) {
      let update = target.updateTable(table as never).set({ [column]: valueFor(table, column, row[column]) } as never);
      for (const key of primary) update = update.where(sql.ref(key), '=', row[key]);
      await update.execute();
    }
  }
}

const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);
/** `table.column` of the target's integer columns (filled by columnsOf). */
const integerColumns = new Set<string>();

/**
 * SQLite keeps whatever number it is given, even in an integer column (a time computed with a fraction of a
 * millisecond); PostgreSQL refuses a fraction there. Such values lose their fraction, downwards.
 */
function valueFor(table: string, column: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) && integerColumns.has(`${table}.${column}`)
    ? Math.floor(value)
    : value;
}

/** Columns of every table in the target's current schema (migration bookkeeping excluded). */
async function columnsOf(target: Database): Promise<Map<string, string[]>> {
  const { rows } = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select table_name, column_name, data_type from information_schema.columns
    where table_schema = current_schema() and substr(table_name, 1, 7) <> 'kysely_'
    order by table_name, ordinal_position`.execute(target);
  const tables = new Map<string, string[]>();
  for (const row of rows) {
    tables.set(row.table_name, [...(tables.get(row.table_name) ?? []), row.column_name]);
    if (INTEGER_TYPES.has(row.data_type)) integerColumns.add(`${row.table_name}.${row.column_name}`);
  }
  return tables;
}

async function count(db: Database, table: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(rows[0]!.n);
}

/** Copies one table a page at a time, in rowid order; the columns are the target's, which must all be in the source. */
async function copyTable(
  source: Database,
  target: Database,
  table: string,
  columns: string[],
  nullFirst: string[],
): Promise<number> {
  let after = -Infinity;
  let copied = 0;
  const perInsert = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
  for (;;) {
    const { rows } = await sql<Row & { _rowid: number }>`
      select rowid as _rowid, * from ${sql.table(table)}
      where rowid > ${after === -Infinity ? Number.MIN_SAFE_INTEGER : after} order by rowid limit ${READ_PAGE}`.execute(
      source,
    );
    if (rows.length === 0) return copied;
    for (let start = 0; start < rows.length; start += perInsert) {
      const values = rows.slice(start, start + perInsert).map((row) => {
        const out: Row = {};
        for (const column of columns) {
          if (!(column in row)) throw new Error(`the source table ${table} has no column ${column}`);
          out[column] = nullFirst.includes(column) ? null : valueFor(table, column, row[column]);
        }
        return out;
      });
      await target
        .insertInto(table as never)
        .values(values as never)
        .execute();
    }
    copied += rows.length;
    after = rows.at(-1)!._rowid;
  }
}

/** Serial ids continue after the largest id copied, so new rows do not collide with moved ones. */
async function resetSequences(trx: Database): Promise<void> {
  const { rows } = await sql<{ table_name: string; column_name: string; sequence: string }>`
    select table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) as sequence
    from information_schema.columns
    where table_schema = current_schema() and column_default like 'nextval(%'`.execute(trx);
  for (const row of rows) {
    if (!row.sequence) continue;
    await sql`select setval(${row.sequence}, coalesce((select max(${sql.ref(row.column_name)}) from ${sql.table(
      row.table_name,
    )}), 0) + 1, false)`.execute(trx);
  }
}

/** The embedded store keeps firmware as files; PostgreSQL keeps them in `blobs`, so that every instance sees them. */
async function moveBlobs(source: Database, blobs: BlobStore, trx: Database, report: MoveReport): Promise<void> {
  const referenced = await source.selectFrom('images').select('sha256').distinct().execute();
  const keys = new Set([...referenced.map((r) => r.sha256), ...(await blobs.list()).map((b) => b.key)]);
  const committedAt = new Map((await blobs.list()).map((b) => [b.key, b.committedAt]));
  for (const key of [...keys].sort()) {
    const exists = await trx.selectFrom('blobs').select('key').where('key', '=', key).executeTakeFirst();
    if (exists) continue; // already in the source's own blobs table (copied with the tables)
    if (!(await blobs.exists(key))) throw new Error(`the firmware file ${key} that an image refers to is missing`);
    const data = await blobs.read(key);
    const digest = createHash('sha256').update(data).digest('hex');
    if (digest !== key) throw new Error(`the firmware file ${key} is damaged: its SHA-256 is ${digest}`);
    await trx
      .insertInto('blobs')
      // A file's time has fractions of a millisecond; the column holds whole ones.
      .values({ key, data, size: data.length, committed_at: Math.floor(committedAt.get(key) ?? Date.now()) })
      .execute();
    report.blobs++;
    report.blobBytes += data.length;
  }
}

/** Counts every table on both sides, and has PostgreSQL compute every blob's SHA-256 and size. */
async function verify(source: Database, trx: Database, report: MoveReport): Promise<void> {
  for (const { name, rows } of report.tables) {
    const [there, here] = [await count(trx, name), await count(source, name)];
    // The firmware files join the source's (usually empty) blobs table.
    const added = name === 'blobs' ? report.blobs : 0;
    if (there !== here + added || here !== rows) {
      throw new Error(`${name}: ${here} rows in the source (+${added} files), ${there} in the target`);
    }
  }
  const { rows } = await sql<{ key: string; digest: string; ok: boolean }>`
    select key, encode(sha256(data), 'hex') as digest, octet_length(data) = size as ok from blobs`.execute(trx);
  for (const row of rows) {
    if (row.digest !== row.key || !row.ok) throw new Error(`blob ${row.key} does not verify after the move`);
  }
  const { rows: orphans } = await sql<{ sha256: string }>`
    select distinct sha256 from images where sha256 not in (select key from blobs)`.execute(trx);
  if (orphans.length > 0) throw new Error(`images without their firmware bytes: ${orphans.map((o) => o.sha256)}`);
}

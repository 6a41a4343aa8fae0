import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkInsert } from '../src/db/bulk-insert.js';
import type { Database } from '../src/db/database.js';
import { withStatementCache } from '../src/db/statement-cache.js';
import type { NewEvent } from '../src/db/tables.js';
import { describeEachStore, openTestDatabase } from './helpers/test-app.js';

type EventValues = Omit<NewEvent, 'id'>;
const COLUMNS = [
  'at',
  'type',
  'platform_name',
  'mac',
  'from_version',
  'to_version',
  'decision',
  'reason',
  'detail',
] as const;

function event(n: number): EventValues {
  return {
    at: 1_000 + n,
    type: 'check',
    platform_name: `P${n % 3}`,
    mac: n % 2 ? `0200000000${(n % 100).toString().padStart(2, '0')}` : null,
    from_version: `1.0.${n}`,
    to_version: null,
    decision: 'not-modified',
    reason: 'current',
    detail: `event ${n}`,
  };
}

describeEachStore('bulk inserts', (store) => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close: cleanup } = await openTestDatabase(store));
  });
  afterAll(() => cleanup());

  it('writes every row with its own values, for counts that need each statement size', async () => {
    const insert = new BulkInsert<EventValues>(COLUMNS, (q, rows) => q.insertInto('events').values(rows), [16, 4, 1]);
    for (const count of [0, 1, 3, 4, 21, 38]) {
      await db.deleteFrom('events').execute();
      const rows = Array.from({ length: count }, (_, n) => event(n));
      await insert.run(db, rows);
      const stored = await db.selectFrom('events').select(COLUMNS).orderBy('at').execute();
      expect(stored, `${count} rows`).toEqual(rows);
    }
    // The same statements serve a transaction.
    await db.deleteFrom('events').execute();
    await db.transaction().execute((trx) => insert.run(trx, [event(7), event(8)]));
    expect(await db.selectFrom('events').select('detail').orderBy('at').execute()).toEqual([
      { detail: 'event 7' },
      { detail: 'event 8' },
    ]);
  });

  it('refuses a statement that binds anything but the row values, before writing', async () => {
    const insert = new BulkInsert<EventValues>(COLUMNS, (q, rows) =>
      q
        .insertInto('events')
        .values(rows.map((row) => ({ ...row, detail: sql<string>`${'constant'} || ${row.detail}` }))),
    );
    await db.deleteFrom('events').execute();
    await expect(insert.run(db, [event(1)])).rejects.toThrow(/does not bind one value per column/);
    expect(await db.selectFrom('events').selectAll().execute()).toEqual([]);
  });

  it('needs a smallest statement size of 1', () => {
    expect(
      () => new BulkInsert<EventValues>(COLUMNS, (q, rows) => q.insertInto('events').values(rows), [8, 2]),
    ).toThrow(/must be 1/);
  });
});

describe('SQLite statement cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'esp-ota-statements-'));
  const sqlite = new SQLite(join(dir, 'cache.sqlite'));
  afterAll(() => {
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reuses a prepared statement, but not while it is still iterating rows', () => {
    sqlite.exec('create table numbers (n integer)');
    sqlite.exec('insert into numbers values (1), (2), (3)');
    const cached = withStatementCache(sqlite, 2);
    const first = cached.prepare('select n from numbers order by n');
    expect(cached.prepare('select n from numbers order by n')).toBe(first);

    const rows = first.iterate([]) as IterableIterator<{ n: number }>;
    expect(rows.next().value).toEqual({ n: 1 });
    const meanwhile = cached.prepare('select n from numbers order by n');
    expect(meanwhile).not.toBe(first);
    expect(meanwhile.all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect([...rows]).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it('keeps only the most recently used statements', () => {
    const cached = withStatementCache(sqlite, 2);
    const one = cached.prepare('select 1');
    const two = cached.prepare('select 2');
    expect(cached.prepare('select 1')).toBe(one); // used again: now the newest
    const three = cached.prepare('select 3'); // evicts "select 2", the least recently used
    expect(cached.prepare('select 1')).toBe(one);
    expect(cached.prepare('select 3')).toBe(three);
    expect(cached.prepare('select 2')).not.toBe(two);
  });
});

import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../schema-helpers.js';

const POINTERS = ['released_app_id', 'released_fs_id'] as const;
const PLATFORM_COLUMNS = [
  'id',
  'name',
  'name_key',
  'chip',
  'access_mode',
  'released_app_id',
  'released_fs_id',
  'app_release_pinned',
  'fs_partition_size',
  'created_at',
  'updated_at',
  'device_auth',
  'device_user',
  'device_secret_hash',
];

/**
 * The release pointers become foreign keys to `images`: the database itself refuses to delete a released image, so
 * a release racing a delete can never leave a platform pointing at nothing (its devices were then told "nothing is
 * released"). Not ON DELETE SET NULL: deleting the released image must be refused, not quietly unrelease it.
 * Deleting a platform clears its pointers first (PlatformStore.delete).
 *
 * Pointers that already name a deleted image (left by that race) are cleared: that is what devices were told.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const pointer of POINTERS) {
    await sql`update platforms set ${sql.ref(pointer)} = null
      where ${sql.ref(pointer)} is not null
        and not exists (select 1 from images where images.id = platforms.${sql.ref(pointer)})`.execute(db);
  }
  if (isPostgres(db)) {
    for (const pointer of POINTERS) {
      await db.schema
        .alterTable('platforms')
        .addForeignKeyConstraint(`platforms_${pointer}_fk`, [pointer], 'images', ['id'])
        .execute();
    }
  } else {
    await rebuildPlatformsOnSqlite(db);
  }
}

/**
 * SQLite adds a foreign key only by rebuilding the table (sqlite.org/lang_altertable.html, "other kinds of table
 * schema changes"): copy into a new table, drop the old one, rename. Foreign keys are off meanwhile, or dropping
 * `platforms` would delete every image and allowlist entry through their ON DELETE CASCADE. Kysely runs SQLite
 * migrations outside a transaction, so the pragma takes effect; the rebuild is one transaction of its own.
 */
async function rebuildPlatformsOnSqlite(db: Kysely<unknown>): Promise<void> {
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      await trx.schema
        .createTable('platforms_new')
        // Columns as 001 and 002 made them, in the same order.
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('chip', 'text')
        .addColumn('access_mode', 'text', (c) => c.notNull().defaultTo('allowlist'))
        .addColumn('released_app_id', 'integer', (c) => c.references('images.id'))
        .addColumn('released_fs_id', 'integer', (c) => c.references('images.id'))
        .addColumn('app_release_pinned', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('fs_partition_size', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('device_auth', 'text', (c) => c.notNull().defaultTo('off'))
        .addColumn('device_user', 'text')
        .addColumn('device_secret_hash', 'text')
        .execute();
      const columns = sql.join(PLATFORM_COLUMNS.map((c) => sql.ref(c)));
      await sql`insert into platforms_new (${columns}) select ${columns} from platforms`.execute(trx);
      // AUTOINCREMENT's high-water mark, so that a deleted platform's id is never given to a new one.
      const { rows } = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'platforms'`.execute(
        trx,
      );
      await sql`drop table platforms`.execute(trx);
      await sql`alter table platforms_new rename to platforms`.execute(trx);
      if (rows[0]) await sql`update sqlite_sequence set seq = ${rows[0].seq} where name = 'platforms'`.execute(trx);
      const { rows: broken } = await sql`pragma foreign_key_check`.execute(trx);
      if (broken.length > 0) throw new Error(`foreign keys broken by the rebuild: ${JSON.stringify(broken)}`);
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}

import type { Kysely } from 'kysely';
import { addIdColumn, binaryType } from '../schema-helpers.js';

/** The first schema. Forward-only: later changes get new numbered files; this one is never edited. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('platforms')
    .$call(addIdColumn(db))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull().unique())
    .addColumn('chip', 'text')
    .addColumn('access_mode', 'text', (c) => c.notNull().defaultTo('allowlist'))
    .addColumn('released_app_id', 'integer')
    .addColumn('released_fs_id', 'integer')
    .addColumn('app_release_pinned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('fs_partition_size', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('allowlist')
    .addColumn('platform_id', 'integer', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('allowlist_pk', ['platform_id', 'mac'])
    .execute();

  await db.schema
    .createTable('images')
    .$call(addIdColumn(db))
    .addColumn('platform_id', 'integer', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('version_key', 'text', (c) => c.notNull())
    .addColumn('chip', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('md5', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('appended_digest', 'text')
    .addColumn('md5_variants', 'text')
    .addColumn('analysis', 'text', (c) => c.notNull())
    .addColumn('identity_source', 'text')
    .addColumn('filename', 'text')
    .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('images_version_unique', ['platform_id', 'kind', 'version_key'])
    .execute();
  await db.schema.createIndex('images_sha256').on('images').column('sha256').execute();

  await db.schema
    .createTable('devices')
    .addColumn('mac', 'text', (c) => c.primaryKey())
    .addColumn('platform_id', 'integer')
    .addColumn('platform_name', 'text', (c) => c.notNull())
    .addColumn('family', 'text')
    .addColumn('ip', 'text')
    .addColumn('reported_version', 'text')
    .addColumn('sdk_version', 'text')
    .addColumn('free_space', 'bigint')
    .addColumn('chip_size', 'bigint')
    .addColumn('sketch_md5', 'text')
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('check_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('download_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_decision', 'text', (c) => c.notNull())
    .addColumn('last_reason', 'text', (c) => c.notNull())
    .execute();
  // platform_id alone: an index on last_seen_at would be rewritten by every device check.
  await db.schema.createIndex('devices_platform').on('devices').column('platform_id').execute();

  await db.schema
    .createTable('events')
    .$call(addIdColumn(db))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('platform_name', 'text')
    .addColumn('mac', 'text')
    .addColumn('from_version', 'text')
    .addColumn('to_version', 'text')
    .addColumn('decision', 'text')
    .addColumn('reason', 'text')
    .addColumn('detail', 'text')
    .execute();
  // No index on `at`: ids grow with time, so "newest first" and retention by age use the primary key.
  await db.schema.createIndex('events_mac').on('events').columns(['mac', 'id']).execute();
  await db.schema.createIndex('events_platform').on('events').columns(['platform_name', 'id']).execute();

  // Firmware bytes in the database, used with PostgreSQL so that every instance sees every image.
  await db.schema
    .createTable('blobs')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('data', binaryType(db), (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('committed_at', 'bigint', (c) => c.notNull())
    .execute();
}

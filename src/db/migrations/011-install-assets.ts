import type { Kysely } from 'kysely';
import { addIdColumn } from '../schema-helpers.js';

/**
 * Install assets (issue 15 item 2, README "Installing from a browser"): the full-flash files a browser install with
 * ESP Web Tools writes for a release: one factory image at flash 0, or a bootloader, partition table and app at their
 * offsets. An asset belongs to one OTA image (the release it installs) and goes with it when the image is deleted.
 * Its files are blobs like images' (content-addressed by SHA-256), so the collector must see these references too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('install_assets')
    .$call(addIdColumn(db))
    .addColumn('image_id', 'integer', (c) => c.notNull().unique().references('images.id').onDelete('cascade'))
    .addColumn('layout', 'text', (c) => c.notNull())
    .addColumn('chip', 'text', (c) => c.notNull())
    .addColumn('app_offset', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('install_asset_parts')
    .addColumn('asset_id', 'integer', (c) => c.notNull().references('install_assets.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('flash_offset', 'integer', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('md5', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('install_asset_parts_pk', ['asset_id', 'role'])
    .execute();
  await db.schema.createIndex('install_asset_parts_blob').on('install_asset_parts').column('blob_key').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('install_asset_parts').execute();
  await db.schema.dropTable('install_assets').execute();
}

import type { Kysely } from 'kysely';

/**
 * Device records say what was sent (issue 11). Events keep the HTTP status a device was answered with (null for
 * events that are not device requests). Devices remember which image their latest downloads were of and how many
 * times in a row they downloaded it: "still asks after downloading it 3 times" is about the released image, not
 * about every download in the device's life, which `download_count` keeps counting.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('events').addColumn('status', 'integer').execute();
  await db.schema.alterTable('devices').addColumn('downloaded_image_id', 'integer').execute();
  await db.schema
    .alterTable('devices')
    .addColumn('downloads_of_release', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

import { sql, type Kysely } from 'kysely';

/**
 * Indexes for the operator's reads at a million devices (issue 13 §2): the device list filtered by platform, status,
 * version or time seen, sorted by last seen (newest first, the default) or by version, paged by key (never `OFFSET`),
 * and the dashboard's "needs attention" list.
 *
 * Each index that holds `last_seen_at` is rewritten when a heartbeat moves it; heartbeats are written in batches
 * (`deviceSeenFlushMs`) and the new keys all land at the newest end of these indexes, so a batch dirties few pages.
 * `allowlist(mac)`: a page's labels, and the search by label, look devices up by MAC on any platform.
 * `(platform_id, status, mac)` becomes `(platform_id, status, last_seen_at, mac)`: the same prefix, and a platform's
 * devices of one status come out newest first without a sort.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('devices_seen').on('devices').columns(['last_seen_at', 'mac']).execute();
  await db.schema
    .createIndex('devices_platform_seen')
    .on('devices')
    .columns(['platform_id', 'last_seen_at', 'mac'])
    .execute();
  await db.schema.createIndex('devices_status_seen').on('devices').columns(['status', 'last_seen_at', 'mac']).execute();
  await db.schema.dropIndex('devices_platform_status').execute();
  await db.schema
    .createIndex('devices_platform_status_seen')
    .on('devices')
    .columns(['platform_id', 'status', 'last_seen_at', 'mac'])
    .execute();
  await db.schema.createIndex('devices_version').on('devices').columns(['reported_version', 'mac']).execute();
  await db.schema.createIndex('allowlist_mac').on('allowlist').column('mac').execute();
  // Devices that keep downloading the release without installing it are few; a partial index finds them at once.
  // The condition is a literal so that SQLite can match it to the query's (it cannot with a bound parameter).
  await db.schema
    .createIndex('devices_stuck')
    .on('devices')
    .columns(['last_seen_at', 'mac'])
    .where(sql.ref('downloads_of_release'), '>=', sql.lit(3))
    .execute();
}

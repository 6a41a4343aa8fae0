import type { Kysely } from 'kysely';

/**
 * Device keys (issue 15, ESPHome): clients whose requests name no device (ESPHome's `update: platform:
 * http_request`) are given a per-device manifest URL with a key the server mints, `/ota/<platform>/d/<key>/…`. The key
 * stands for one device (its MAC) on one platform, so the allowlist, pins, rollout stages and the update window apply
 * to it as to an Arduino check that sends that MAC. A key is an address, not a credential (anyone may send any MAC to
 * `/update` too); a platform's device login applies on top of it. One key per device and platform: minting again
 * replaces it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('device_keys')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('platform_id', 'integer', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('device_keys_one_per_device', ['platform_id', 'mac'])
    .execute();
}

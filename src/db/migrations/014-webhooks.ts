import type { Kysely } from 'kysely';
import { addIdColumn } from '../schema-helpers.js';

/**
 * Webhooks (issue 16): endpoints that receive the event log as signed JSON, and the log of their deliveries.
 *
 * - `webhooks`: the URL, the secret that signs each body (HMAC-SHA256; kept as given, since signing needs it, and
 *   never shown again after creation nor exported), the event types it wants (JSON list; empty: all), who added it.
 * - `webhook_deliveries`: one row per event delivered or given up on: the attempts, the last HTTP status or error.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhooks')
    .$call(addIdColumn(db))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('event_types', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('webhook_deliveries')
    .$call(addIdColumn(db))
    .addColumn('webhook_id', 'integer', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('platform_name', 'text')
    .addColumn('event_at', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('error', 'text')
    .addColumn('finished_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_by_hook')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhooks').execute();
}

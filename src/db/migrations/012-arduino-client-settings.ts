import type { Kysely } from 'kysely';

/**
 * Settings for the other ESP8266 clients of issue 15 (docs/clients.md):
 *
 * - `esp8266_gzip`: whether ESP8266 devices are sent a gzip copy of the released image (`off`, `auto`: devices whose
 *   running image shows core ≥ 2.7, `on`: every ESP8266 device of the platform).
 * - `minimal_platform_id`: the platform whose released app is this platform's Tasmota "minimal" image, served as
 *   `…-minimal.bin(.gz)` beside the full one for Tasmota's two-step upgrade. Deleting that platform unpairs it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('platforms')
    .addColumn('esp8266_gzip', 'text', (c) => c.notNull().defaultTo('off'))
    .execute();
  await db.schema
    .alterTable('platforms')
    .addColumn('minimal_platform_id', 'integer', (c) => c.references('platforms.id').onDelete('set null'))
    .execute();
}

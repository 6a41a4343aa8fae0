import type { Kysely } from 'kysely';
import { addIdColumn } from '../schema-helpers.js';

/**
 * Signed firmware (issue 17, docs/security.md):
 * - `platform_keys`: the public keys a platform's boards trust. With at least one, the platform takes only images
 *   that one of them verifies. Public keys only: private keys never enter the database.
 * - `platforms.flash_mode`: the flash mode the platform's ESP8266 boards run (`qio`, `qout`, `dio`, `dout`), for the
 *   signed-image rule that the image's flash-mode byte must match it (protocol.md §7.1).
 * - `images.signature`: JSON, what the upload's signature was found to be against the platform's keys at upload
 *   (state, layout, algorithm, key digests; whether this server signed it and the original's digests then).
 * - `rollouts.key_change`: JSON `{from, to}` when the rollout moves boards to an image signed by another key (the
 *   person confirmed it); the rollout shows it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('platform_keys')
    .$call(addIdColumn(db))
    .addColumn('platform_id', 'integer', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    // SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex: the key's name everywhere.
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('bits', 'integer', (c) => c.notNull())
    .addColumn('pem', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('platform_keys_digest_unique', ['platform_id', 'digest'])
    .execute();
  await db.schema.alterTable('platforms').addColumn('flash_mode', 'text').execute();
  await db.schema.alterTable('images').addColumn('signature', 'text').execute();
  await db.schema.alterTable('rollouts').addColumn('key_change', 'text').execute();
}

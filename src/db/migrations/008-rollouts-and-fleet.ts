import { sql, type Kysely } from 'kysely';
import { addIdColumn } from '../schema-helpers.js';

/**
 * Staged rollouts and a fleet recorded by its changes (issues 12 and 13, docs/architecture.md "Rollouts" and "The
 * fleet in memory").
 *
 * - Platforms get a release policy (`auto`: certain uploads are released at once; `manual`; `rollout`: certain
 *   uploads start a rollout from the platform's template) and an optional update window.
 * - `rollouts`: one row per rollout; at most one is running or paused per platform (a partial unique index).
 * - `device_groups` and their members: canaries, excluded devices and pins to an image.
 * - Devices remember what they run (the matched image), their status, when they last changed, and what the current
 *   rollout knows of them; events say how many identical occurrences they stand for and who made a change.
 * - `version_samples`: devices per version over time, for the platform page's chart.
 * - The `(mac, id)` index on events comes back: events are now written for changes only, so it costs little, and a
 *   device's history becomes an index range instead of a scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('platforms')
    .addColumn('release_policy', 'text', (c) => c.notNull().defaultTo('auto'))
    .execute();
  await db.schema.alterTable('platforms').addColumn('rollout_template', 'text').execute();
  await db.schema.alterTable('platforms').addColumn('update_window', 'text').execute();

  await db.schema
    .createTable('rollouts')
    .$call(addIdColumn(db))
    .addColumn('platform_id', 'integer', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('image_id', 'integer', (c) => c.references('images.id').onDelete('set null'))
    .addColumn('previous_image_id', 'integer', (c) => c.references('images.id').onDelete('set null'))
    // Kept as text too, so a finished rollout still says what it moved from and to after its images are deleted.
    .addColumn('target_version', 'text', (c) => c.notNull())
    .addColumn('previous_version', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('stages', 'text', (c) => c.notNull())
    .addColumn('canary', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('stage_index', 'integer', (c) => c.notNull())
    .addColumn('stage_started_at', 'bigint', (c) => c.notNull())
    .addColumn('pause_reason', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .execute();
  await db.schema.createIndex('rollouts_platform').on('rollouts').columns(['platform_id', 'id']).execute();
  await db.schema
    .createIndex('rollouts_one_active_per_platform')
    .on('rollouts')
    .column('platform_id')
    .unique()
    .where(sql.ref('state'), 'in', ['running', 'paused'])
    .execute();

  await db.schema
    .createTable('device_groups')
    .$call(addIdColumn(db))
    .addColumn('platform_id', 'integer', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('excluded', 'integer', (c) => c.notNull().defaultTo(0))
    // A pinned image cannot be deleted while a group holds it (the service says so).
    .addColumn('pinned_image_id', 'integer', (c) => c.references('images.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('device_groups_name_unique', ['platform_id', 'name_key'])
    .execute();
  await db.schema
    .createTable('device_group_members')
    .addColumn('group_id', 'integer', (c) => c.notNull().references('device_groups.id').onDelete('cascade'))
    .addColumn('mac', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_group_members_pk', ['group_id', 'mac'])
    .execute();
  await db.schema.createIndex('device_group_members_mac').on('device_group_members').column('mac').execute();

  const deviceColumns: [string, 'integer' | 'bigint' | 'text', boolean][] = [
    ['running_image_id', 'integer', false],
    ['rollout_id', 'integer', false],
    ['rollout_state', 'text', false],
    ['rollout_first_served_at', 'bigint', false],
    ['rollout_served_at', 'bigint', false],
    ['rollout_outcome_at', 'bigint', false],
    ['rollout_failure', 'text', false],
  ];
  for (const [name, type] of deviceColumns) await db.schema.alterTable('devices').addColumn(name, type).execute();
  await db.schema
    .alterTable('devices')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('unknown'))
    .execute();
  await db.schema
    .alterTable('devices')
    .addColumn('changed_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('devices')
    .addColumn('rollout_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('devices')
    .addColumn('rollout_checks_since_served', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Existing rows have changed when they were last seen, as far as anyone can tell.
  await sql`update devices set changed_at = last_seen_at`.execute(db);
  await db.schema
    .createIndex('devices_platform_status')
    .on('devices')
    .columns(['platform_id', 'status', 'mac'])
    .execute();
  await db.schema
    .createIndex('devices_platform_version')
    .on('devices')
    .columns(['platform_id', 'reported_version', 'mac'])
    .execute();
  // (platform_id) alone is the prefix of the status index, and every index costs the device writes.
  await db.schema.dropIndex('devices_platform').execute();
  await db.schema.createIndex('devices_rollout').on('devices').columns(['rollout_id', 'rollout_state']).execute();

  await db.schema
    .alterTable('events')
    .addColumn('occurrences', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('events').addColumn('actor', 'text').execute();
  await db.schema.createIndex('events_mac').on('events').columns(['mac', 'id']).execute();

  await db.schema
    .createTable('version_samples')
    .addColumn('platform_id', 'integer', (c) => c.notNull().references('platforms.id').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('devices', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('version_samples_pk', ['platform_id', 'at', 'version'])
    .execute();
}

import { sql, type RawBuilder } from 'kysely';
import { BulkInsert } from '../../db/bulk-insert.js';
import type { Database } from '../../db/database.js';
import { isPostgres } from '../../db/schema-helpers.js';
import type { DeviceRow } from '../../db/tables.js';

/**
 * A device's row as a change writes it. `check_count` and `download_count` are what this process counted since its
 * last write (they add up in the database, so several instances never lose each other's counts); everything else is
 * the device's state as of `changed_at` (its platform, image, answer, status, rollout) or of `last_seen_at` (the
 * facts it sends), and the newer one wins.
 */
export type DeviceChangeRow = Omit<DeviceRow, 'first_seen_at'> & { first_seen_at: number };

/** A heartbeat: the device was heard `check_count` more times, last at `last_seen_at`; nothing else changed. */
export type DeviceSightingRow = Pick<
  DeviceRow,
  | 'mac'
  | 'platform_id'
  | 'platform_name'
  | 'reported_version'
  | 'running_image_id'
  | 'status'
  | 'last_decision'
  | 'last_reason'
  | 'changed_at'
  | 'first_seen_at'
  | 'last_seen_at'
  | 'check_count'
  | 'download_count'
  | 'downloads_of_release'
>;

const STATE_COLUMNS = [
  'platform_id',
  'platform_name',
  'reported_version',
  'running_image_id',
  'status',
  'last_decision',
  'last_reason',
  'downloaded_image_id',
  'downloads_of_release',
  'rollout_id',
  'rollout_state',
  'rollout_attempts',
  'rollout_first_served_at',
  'rollout_served_at',
  'rollout_checks_since_served',
  'rollout_outcome_at',
  'rollout_failure',
] as const satisfies readonly (keyof DeviceRow)[];

const FACT_COLUMNS = ['family', 'ip', 'sdk_version', 'free_space', 'chip_size', 'sketch_md5'] as const;

const CHANGE_COLUMNS = [
  'mac',
  ...STATE_COLUMNS,
  ...FACT_COLUMNS,
  'changed_at',
  'first_seen_at',
  'last_seen_at',
  'check_count',
  'download_count',
] as const satisfies readonly (keyof DeviceChangeRow)[];

/** The larger of two values: SQLite's scalar `max`, PostgreSQL's `greatest`. */
function larger(db: Database, a: string, b: string): RawBuilder<number> {
  return isPostgres(db)
    ? sql<number>`greatest(${sql.ref(a)}, ${sql.ref(b)})`
    : sql<number>`max(${sql.ref(a)}, ${sql.ref(b)})`;
}

function smaller(db: Database, a: string, b: string): RawBuilder<number> {
  return isPostgres(db)
    ? sql<number>`least(${sql.ref(a)}, ${sql.ref(b)})`
    : sql<number>`min(${sql.ref(a)}, ${sql.ref(b)})`;
}

/** The incoming value when it is at least as new as the stored one (by `newer`), else the stored value. */
function newest(column: string, newer: 'changed_at' | 'last_seen_at'): RawBuilder<unknown> {
  return sql`case when ${sql.ref(`excluded.${newer}`)} >= ${sql.ref(`devices.${newer}`)} then ${sql.ref(`excluded.${column}`)} else ${sql.ref(`devices.${column}`)} end`;
}

const writeChanges = new BulkInsert<DeviceChangeRow>(
  CHANGE_COLUMNS,
  (db, rows) =>
    db
      .insertInto('devices')
      .values(rows)
      .onConflict((oc) =>
        oc.column('mac').doUpdateSet(() => ({
          ...Object.fromEntries(STATE_COLUMNS.map((c) => [c, newest(c, 'changed_at')])),
          ...Object.fromEntries(FACT_COLUMNS.map((c) => [c, newest(c, 'last_seen_at')])),
          changed_at: larger(db, 'excluded.changed_at', 'devices.changed_at'),
          first_seen_at: smaller(db, 'excluded.first_seen_at', 'devices.first_seen_at'),
          last_seen_at: larger(db, 'excluded.last_seen_at', 'devices.last_seen_at'),
          check_count: sql<number>`devices.check_count + excluded.check_count`,
          download_count: sql<number>`devices.download_count + excluded.download_count`,
        })),
      ),
  [128, 16, 1],
);

/** A change of state the device did not report (its status after a release, its rollout outcome after a sweep). */
export type DeviceStateRow = Omit<DeviceChangeRow, (typeof FACT_COLUMNS)[number]>;

const STATE_ONLY_COLUMNS = CHANGE_COLUMNS.filter(
  (column): column is Exclude<(typeof CHANGE_COLUMNS)[number], (typeof FACT_COLUMNS)[number]> =>
    !(FACT_COLUMNS as readonly string[]).includes(column),
);

const writeStates = new BulkInsert<DeviceStateRow>(
  STATE_ONLY_COLUMNS,
  (db, rows) =>
    db
      .insertInto('devices')
      .values(rows)
      .onConflict((oc) =>
        oc.column('mac').doUpdateSet(() => ({
          ...Object.fromEntries(STATE_COLUMNS.map((c) => [c, newest(c, 'changed_at')])),
          changed_at: larger(db, 'excluded.changed_at', 'devices.changed_at'),
          last_seen_at: larger(db, 'excluded.last_seen_at', 'devices.last_seen_at'),
          check_count: sql<number>`devices.check_count + excluded.check_count`,
          download_count: sql<number>`devices.download_count + excluded.download_count`,
        })),
      ),
  [128, 16, 1],
);

const SIGHTING_COLUMNS = [
  'mac',
  'platform_id',
  'platform_name',
  'reported_version',
  'running_image_id',
  'status',
  'last_decision',
  'last_reason',
  'changed_at',
  'first_seen_at',
  'last_seen_at',
  'check_count',
  'download_count',
  'downloads_of_release',
] as const satisfies readonly (keyof DeviceSightingRow)[];

/**
 * Heartbeats touch only the time and the counter of a row that exists (the rest of the row is there to insert a
 * device whose row went missing, e.g. pruned meanwhile). No indexed column changes, so each row costs its own page
 * and nothing else; rows are written in MAC order, so neighbours share pages.
 */
const writeSightings = new BulkInsert<DeviceSightingRow>(
  SIGHTING_COLUMNS,
  (db, rows) =>
    db
      .insertInto('devices')
      .values(rows)
      .onConflict((oc) =>
        oc.column('mac').doUpdateSet(() => ({
          last_seen_at: larger(db, 'excluded.last_seen_at', 'devices.last_seen_at'),
          check_count: sql<number>`devices.check_count + excluded.check_count`,
        })),
      ),
  [256, 16, 1],
);

/** The columns the device registry loads at start: its state, and the facts it keeps only as a hash. */
export const REGISTRY_COLUMNS = [
  'mac',
  'platform_id',
  'platform_name',
  'reported_version',
  'running_image_id',
  'status',
  'last_decision',
  'last_reason',
  'changed_at',
  'last_seen_at',
  'downloaded_image_id',
  'downloads_of_release',
  'rollout_id',
  'rollout_state',
  'rollout_attempts',
  'rollout_first_served_at',
  'rollout_served_at',
  'rollout_checks_since_served',
  'rollout_outcome_at',
  'rollout_failure',
  ...FACT_COLUMNS,
] as const satisfies readonly (keyof DeviceRow)[];

export type RegistryRow = Pick<DeviceRow, (typeof REGISTRY_COLUMNS)[number]>;

/** Writes of device activity, many rows per statement; each MAC at most once per call. */
export class DeviceWrites {
  constructor(private readonly db: Database) {}

  changes(rows: readonly DeviceChangeRow[]): Promise<void> {
    return writeChanges.run(this.db, rows);
  }

  states(rows: readonly DeviceStateRow[]): Promise<void> {
    return writeStates.run(this.db, rows);
  }

  sightings(rows: readonly DeviceSightingRow[]): Promise<void> {
    return writeSightings.run(this.db, rows);
  }

  /** One page of devices in MAC order, after `afterMac`: how the registry loads a million rows without a pause. */
  page(afterMac: string, limit: number): Promise<RegistryRow[]> {
    return this.db
      .selectFrom('devices')
      .select(REGISTRY_COLUMNS)
      .where('mac', '>', afterMac)
      .orderBy('mac')
      .limit(limit)
      .execute();
  }

  /** Some devices by MAC (another instance changed them). */
  byMacs(macs: readonly string[]): Promise<RegistryRow[]> {
    if (macs.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('devices').select(REGISTRY_COLUMNS).where('mac', 'in', macs).execute();
  }
}

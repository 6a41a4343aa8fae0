import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Database } from '../../db/database.js';
import type { DeviceRow, Tables } from '../../db/tables.js';
import { DeviceWrites } from './device-writes.js';

export interface DeviceQuery {
  platformId?: number | undefined;
  seenSince?: number | undefined;
  /** The next page: devices after this one in the list's order (most recently seen first, then by MAC). */
  after?: { lastSeenAt: number; mac: string } | undefined;
  limit: number;
}

/** A device with the version its platform has released, for telling whether it runs that version. */
export type DeviceWithRelease = DeviceRow & { released_version: string };

/** A device row as its own checks set it (the status and rollout columns take their defaults). */
export type RecordedDevice = Pick<
  DeviceRow,
  | 'mac'
  | 'platform_id'
  | 'platform_name'
  | 'family'
  | 'ip'
  | 'reported_version'
  | 'sdk_version'
  | 'free_space'
  | 'chip_size'
  | 'sketch_md5'
  | 'first_seen_at'
  | 'last_seen_at'
  | 'check_count'
  | 'download_count'
  | 'downloaded_image_id'
  | 'downloads_of_release'
  | 'last_decision'
  | 'last_reason'
>;

/**
 * Downloaded the released image three times or more and still offered it: the device fails to install it. Only
 * downloads of the image released now count; a new release starts the count again (issue 11).
 */
function stuckOnRelease(eb: ExpressionBuilder<Tables, 'devices'>): Expression<SqlBool> {
  return eb.and([
    eb('devices.last_decision', '=', 'serve'),
    eb('devices.downloads_of_release', '>=', 3),
    eb.exists(
      eb
        .selectFrom('platforms')
        .select('platforms.id')
        .whereRef('platforms.id', '=', 'devices.platform_id')
        .where((p) =>
          p.or([
            p('platforms.released_app_id', '=', p.ref('devices.downloaded_image_id')),
            p('platforms.released_fs_id', '=', p.ref('devices.downloaded_image_id')),
          ]),
        ),
    ),
  ]);
}

function matching(eb: ExpressionBuilder<Tables, 'devices'>, query: DeviceQuery): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  if (query.platformId !== undefined) conditions.push(eb('devices.platform_id', '=', query.platformId));
  if (query.seenSince !== undefined) conditions.push(eb('devices.last_seen_at', '>=', query.seenSince));
  if (query.after) {
    const { lastSeenAt, mac } = query.after;
    conditions.push(
      eb.or([
        eb('devices.last_seen_at', '<', lastSeenAt),
        eb.and([eb('devices.last_seen_at', '=', lastSeenAt), eb('devices.mac', '<', mac)]),
      ]),
    );
  }
  return eb.and(conditions);
}

export class DeviceStore {
  constructor(private readonly db: Database) {}

  /**
   * Writes whole device rows as a device's changes would (counters add up, the newer state wins); each MAC once per
   * call. For imports and for filling a database (tests, benchmarks): the server records devices through the fleet
   * registry (features/fleet/).
   */
  async record(devices: RecordedDevice[]): Promise<void> {
    await new DeviceWrites(this.db).changes(
      devices.map((device) => ({
        running_image_id: null,
        status: 'unknown',
        changed_at: device.last_seen_at,
        rollout_id: null,
        rollout_state: null,
        rollout_attempts: 0,
        rollout_first_served_at: null,
        rollout_served_at: null,
        rollout_checks_since_served: 0,
        rollout_outcome_at: null,
        rollout_failure: null,
        ...device,
      })),
    );
  }

  list(query: DeviceQuery): Promise<DeviceRow[]> {
    return this.db
      .selectFrom('devices')
      .selectAll()
      .where((eb) => matching(eb, query))
      .orderBy('last_seen_at', 'desc')
      .orderBy('mac', 'desc')
      .limit(query.limit)
      .execute();
  }

  /**
   * Devices whose platform has released an app and that report another version text (or none), in the order of
   * `list`: every outdated device, and also those that write the released version differently (`v1.2.3` for
   * `1.2.3`), which only `compareVersions` can tell apart.
   */
  listNotReportingRelease(query: DeviceQuery): Promise<DeviceWithRelease[]> {
    return this.db
      .selectFrom('devices')
      .innerJoin('platforms', 'platforms.id', 'devices.platform_id')
      .innerJoin('images', 'images.id', 'platforms.released_app_id')
      .selectAll('devices')
      .select('images.version as released_version')
      .where((eb) =>
        eb.and([
          matching(eb, query),
          eb.or([
            eb('devices.reported_version', 'is', null),
            eb('devices.reported_version', '!=', eb.ref('images.version')),
          ]),
        ]),
      )
      .orderBy('devices.last_seen_at', 'desc')
      .orderBy('devices.mac', 'desc')
      .limit(query.limit)
      .execute();
  }

  /** Devices per platform and last answer: the dashboard's counts, computed by the database. */
  async statusCounts(): Promise<
    { platform_id: number | null; last_decision: string; last_reason: string; devices: number; stuck: number }[]
  > {
    const rows = await this.db
      .selectFrom('devices')
      .select((eb) => [
        'platform_id',
        'last_decision',
        'last_reason',
        eb.fn.countAll<number>().as('devices'),
        eb.fn.sum<number>(eb.case().when(stuckOnRelease(eb)).then(1).else(0).end()).as('stuck'),
      ])
      .groupBy(['platform_id', 'last_decision', 'last_reason'])
      .execute();
    return rows.map((r) => ({ ...r, devices: Number(r.devices), stuck: Number(r.stuck) }));
  }

  /** Devices whose last check was refused, or that keep downloading the release without installing it, newest first. */
  needingAttention(limit: number): Promise<DeviceRow[]> {
    return this.db
      .selectFrom('devices')
      .selectAll()
      .where((eb) => eb.or([eb('last_decision', '=', 'refuse'), stuckOnRelease(eb)]))
      .orderBy('last_seen_at', 'desc')
      .limit(limit)
      .execute();
  }

  async countSeenSince(since: number): Promise<number> {
    const row = await this.db
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('last_seen_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async pruneNotSeenSince(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('devices').where('last_seen_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  findByMac(mac: string): Promise<DeviceRow | undefined> {
    return this.db.selectFrom('devices').selectAll().where('mac', '=', mac).executeTakeFirst();
  }
}

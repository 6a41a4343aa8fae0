import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
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
   * Devices whose last check was refused, or that keep downloading the release without installing it, newest first.
   * Two index reads (status, and the partial index of devices with three downloads or more) instead of one scan.
   */
  async needingAttention(limit: number): Promise<DeviceRow[]> {
    const [refused, stuck] = await Promise.all([
      this.db
        .selectFrom('devices')
        .selectAll()
        .where('status', '=', 'refused')
        .orderBy('last_seen_at', 'desc')
        .orderBy('mac', 'desc')
        .limit(limit)
        .execute(),
      this.db
        .selectFrom('devices')
        .selectAll()
        // A literal, as in the partial index's condition (migration 009), so that SQLite uses it.
        .where(sql<SqlBool>`downloads_of_release >= 3`)
        .where((eb) => stuckOnRelease(eb))
        .orderBy('last_seen_at', 'desc')
        .orderBy('mac', 'desc')
        .limit(limit)
        .execute(),
    ]);
    const byMac = new Map([...refused, ...stuck].map((d) => [d.mac, d]));
    return [...byMac.values()]
      .sort((a, b) => b.last_seen_at - a.last_seen_at || (a.mac < b.mac ? 1 : -1))
      .slice(0, limit);
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

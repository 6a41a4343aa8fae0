import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import type { DeviceRow } from '../../db/tables.js';

export interface DeviceQuery {
  platformId?: number | undefined;
  seenSince?: number | undefined;
  limit: number;
}

/** One device check (or several of the same device, merged), ready to fold into its inventory row. */
export interface DeviceSighting extends Omit<DeviceRow, 'first_seen_at' | 'check_count' | 'download_count'> {
  checks: number;
  downloads: number;
}

export class DeviceStore {
  constructor(private readonly db: Database) {}

  /** Inserts or updates each device; counters add up, everything else takes the newest value. */
  async record(sightings: DeviceSighting[]): Promise<void> {
    for (const s of sightings) {
      const { checks, downloads, ...row } = s;
      await this.db
        .insertInto('devices')
        .values({ ...row, first_seen_at: s.last_seen_at, check_count: checks, download_count: downloads })
        .onConflict((oc) =>
          oc.column('mac').doUpdateSet({
            ...row,
            check_count: sql`devices.check_count + ${checks}`,
            download_count: sql`devices.download_count + ${downloads}`,
          }),
        )
        .execute();
    }
  }

  list(query: DeviceQuery): Promise<DeviceRow[]> {
    let q = this.db.selectFrom('devices').selectAll();
    if (query.platformId !== undefined) q = q.where('platform_id', '=', query.platformId);
    if (query.seenSince !== undefined) q = q.where('last_seen_at', '>=', query.seenSince);
    return q.orderBy('last_seen_at', 'desc').limit(query.limit).execute();
  }

  findByMac(mac: string): Promise<DeviceRow | undefined> {
    return this.db.selectFrom('devices').selectAll().where('mac', '=', mac).executeTakeFirst();
  }
}

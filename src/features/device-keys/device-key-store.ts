import type { Database } from '../../db/database.js';
import type { DeviceKeyRow } from '../../db/tables.js';

/** SQL for device keys (migration 010). */
export class DeviceKeyStore {
  constructor(private readonly db: Database) {}

  list(platformId: number): Promise<DeviceKeyRow[]> {
    return this.db.selectFrom('device_keys').selectAll().where('platform_id', '=', platformId).orderBy('mac').execute();
  }

  /** Every key: what the device check's view loads. */
  listAll(): Promise<DeviceKeyRow[]> {
    return this.db.selectFrom('device_keys').selectAll().execute();
  }

  byKey(key: string): Promise<DeviceKeyRow | undefined> {
    return this.db.selectFrom('device_keys').selectAll().where('key', '=', key).executeTakeFirst();
  }

  find(platformId: number, mac: string): Promise<DeviceKeyRow | undefined> {
    return this.db
      .selectFrom('device_keys')
      .selectAll()
      .where('platform_id', '=', platformId)
      .where('mac', '=', mac)
      .executeTakeFirst();
  }

  /** The device's key on this platform, replacing the one it had (run under the platform's lock). */
  async replace(row: DeviceKeyRow): Promise<void> {
    await this.remove(row.platform_id, row.mac);
    await this.db.insertInto('device_keys').values(row).execute();
  }

  async remove(platformId: number, mac: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('device_keys')
      .where('platform_id', '=', platformId)
      .where('mac', '=', mac)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

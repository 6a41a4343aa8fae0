import type { Database } from '../../db/database.js';
import type { AllowlistRow, NewAllowlistEntry } from '../../db/tables.js';

export class AllowlistStore {
  constructor(private readonly db: Database) {}

  list(platformId: number): Promise<AllowlistRow[]> {
    return this.db.selectFrom('allowlist').selectAll().where('platform_id', '=', platformId).orderBy('mac').execute();
  }

  listAll(): Promise<AllowlistRow[]> {
    return this.db.selectFrom('allowlist').selectAll().execute();
  }

  /** The labels of these devices (on any platform's allowlist), by MAC; devices without one are left out. */
  async labelsOf(macs: readonly string[]): Promise<Map<string, string>> {
    const labels = new Map<string, string>();
    for (let i = 0; i < macs.length; i += 500) {
      const rows = await this.db
        .selectFrom('allowlist')
        .select(['mac', 'label'])
        .where('mac', 'in', macs.slice(i, i + 500))
        .where('label', 'is not', null)
        .execute();
      for (const row of rows) if (row.label) labels.set(row.mac, row.label);
    }
    return labels;
  }

  /** Adds the MAC, or updates its label when it is already listed. */
  async upsert(entry: NewAllowlistEntry): Promise<void> {
    await this.db
      .insertInto('allowlist')
      .values(entry)
      .onConflict((oc) => oc.columns(['platform_id', 'mac']).doUpdateSet({ label: entry.label }))
      .execute();
  }

  async setSecret(platformId: number, mac: string, secretHash: string | null): Promise<boolean> {
    const result = await this.db
      .updateTable('allowlist')
      .set({ secret_hash: secretHash })
      .where('platform_id', '=', platformId)
      .where('mac', '=', mac)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async remove(platformId: number, mac: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('allowlist')
      .where('platform_id', '=', platformId)
      .where('mac', '=', mac)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

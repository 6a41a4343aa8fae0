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

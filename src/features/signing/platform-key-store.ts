import type { Database } from '../../db/database.js';
import { refusedAs } from '../../db/database-errors.js';
import type { NewPlatformKey, PlatformKeyRow } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';

/** SQL for the public keys a platform's boards trust. */
export class PlatformKeyStore {
  constructor(private readonly db: Database) {}

  list(platformId: number): Promise<PlatformKeyRow[]> {
    return this.db
      .selectFrom('platform_keys')
      .selectAll()
      .where('platform_id', '=', platformId)
      .orderBy('id')
      .execute();
  }

  insert(key: NewPlatformKey): Promise<PlatformKeyRow> {
    return refusedAs(this.db.insertInto('platform_keys').values(key).returningAll().executeTakeFirstOrThrow(), {
      unique: () => new DomainError('key-exists', `the platform already trusts key ${key.digest.slice(0, 16)}…`),
    });
  }

  async delete(platformId: number, id: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('platform_keys')
      .where('platform_id', '=', platformId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

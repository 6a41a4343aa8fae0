import type { Database } from '../../db/database.js';
import { refusedAs } from '../../db/database-errors.js';
import { isPostgres } from '../../db/schema-helpers.js';
import type { NewPlatform, PlatformRow, PlatformUpdate } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';

/** SQL for platforms. Names are looked up by `name_key`, the lower-cased name. */
export class PlatformStore {
  constructor(private readonly db: Database) {}

  list(): Promise<PlatformRow[]> {
    return this.db.selectFrom('platforms').selectAll().orderBy('name_key').execute();
  }

  findByName(name: string): Promise<PlatformRow | undefined> {
    return this.db.selectFrom('platforms').selectAll().where('name_key', '=', nameKey(name)).executeTakeFirst();
  }

  findById(id: number): Promise<PlatformRow | undefined> {
    return this.db.selectFrom('platforms').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * The platform, locked until the transaction ends: every change to a platform, its images, its release pointers
   * or its allowlist starts here, so on PostgreSQL such changes run one after another and each reads what the one
   * before committed (otherwise two uploads both read the same release pointer and the lower version can win).
   * SQLite needs no lock: its transactions on this process's one connection already run one at a time.
   */
  lockById(id: number): Promise<PlatformRow | undefined> {
    return this.lockWhere('id', id);
  }

  lockByName(name: string): Promise<PlatformRow | undefined> {
    return this.lockWhere('name_key', nameKey(name));
  }

  private lockWhere(column: 'id' | 'name_key', value: number | string): Promise<PlatformRow | undefined> {
    const query = this.db.selectFrom('platforms').selectAll().where(column, '=', value);
    // FOR NO KEY UPDATE: writers of one platform wait for each other; rows that merely reference it need not.
    return (isPostgres(this.db) ? query.forNoKeyUpdate() : query).executeTakeFirst();
  }

  async insert(platform: NewPlatform): Promise<PlatformRow> {
    return refusedAs(this.db.insertInto('platforms').values(platform).returningAll().executeTakeFirstOrThrow(), {
      unique: () => platformExists(platform.name),
    });
  }

  async update(id: number, changes: PlatformUpdate): Promise<void> {
    await refusedAs(this.db.updateTable('platforms').set(changes).where('id', '=', id).execute(), {
      unique: () => platformExists(changes.name ?? ''),
      foreignKey: () => new DomainError('unknown-image', 'the image to release was deleted meanwhile'),
    });
  }

  /** Deletes the platform with its images and allowlist. */
  async delete(id: number): Promise<void> {
    // The release pointers keep their images from being deleted; with the platform they go too.
    await this.db
      .updateTable('platforms')
      .set({ released_app_id: null, released_fs_id: null })
      .where('id', '=', id)
      .execute();
    // Platforms that took their Tasmota minimal image from this one are unpaired (the key does it too where enforced).
    await this.db
      .updateTable('platforms')
      .set({ minimal_platform_id: null })
      .where('minimal_platform_id', '=', id)
      .execute();
    await this.db.deleteFrom('platforms').where('id', '=', id).execute();
  }
}

function platformExists(name: string): DomainError {
  return new DomainError('platform-exists', `a platform named "${name}" already exists`);
}

export function nameKey(name: string): string {
  return name.trim().toLowerCase();
}

import type { Database } from '../../db/database.js';
import type { NewPlatform, PlatformRow, PlatformUpdate } from '../../db/tables.js';

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

  async insert(platform: NewPlatform): Promise<PlatformRow> {
    return this.db.insertInto('platforms').values(platform).returningAll().executeTakeFirstOrThrow();
  }

  async update(id: number, changes: PlatformUpdate): Promise<void> {
    await this.db.updateTable('platforms').set(changes).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('platforms').where('id', '=', id).execute();
  }
}

export function nameKey(name: string): string {
  return name.trim().toLowerCase();
}

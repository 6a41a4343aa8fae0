import type { Database } from '../../db/database.js';
import type { ImageRow, NewImage } from '../../db/tables.js';

export class ImageStore {
  constructor(private readonly db: Database) {}

  listForPlatform(platformId: number): Promise<ImageRow[]> {
    return this.db
      .selectFrom('images')
      .selectAll()
      .where('platform_id', '=', platformId)
      .orderBy('id', 'desc')
      .execute();
  }

  listAll(): Promise<ImageRow[]> {
    return this.db.selectFrom('images').selectAll().execute();
  }

  findById(id: number): Promise<ImageRow | undefined> {
    return this.db.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByVersion(platformId: number, kind: ImageRow['kind'], versionKey: string): Promise<ImageRow | undefined> {
    return this.db
      .selectFrom('images')
      .selectAll()
      .where('platform_id', '=', platformId)
      .where('kind', '=', kind)
      .where('version_key', '=', versionKey)
      .executeTakeFirst();
  }

  insert(image: NewImage): Promise<ImageRow> {
    return this.db.insertInto('images').values(image).returningAll().executeTakeFirstOrThrow();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('images').where('id', '=', id).execute();
  }

  /** Every blob key some image row points at. */
  async referencedBlobs(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('images').select('sha256').distinct().execute();
    return new Set(rows.map((r) => r.sha256));
  }
}

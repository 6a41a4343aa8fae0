import type { Database } from '../../db/database.js';
import { refusedAs } from '../../db/database-errors.js';
import type { ImageRow, NewImage } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';

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

  /** An image of the platform with exactly these bytes (any kind, any version). */
  findByDigest(platformId: number, sha256: string): Promise<ImageRow | undefined> {
    return this.db
      .selectFrom('images')
      .selectAll()
      .where('platform_id', '=', platformId)
      .where('sha256', '=', sha256)
      .executeTakeFirst();
  }

  insert(image: NewImage): Promise<ImageRow> {
    return refusedAs(this.db.insertInto('images').values(image).returningAll().executeTakeFirstOrThrow(), {
      unique: () =>
        new DomainError(
          'version-exists',
          `the platform already has ${image.kind === 'app' ? 'an application' : 'a filesystem'} image version ${image.version}; delete it first to replace it`,
          { version: image.version },
        ),
      foreignKey: () => new DomainError('unknown-platform', 'the platform was deleted meanwhile'),
    });
  }

  /** Deletes a kept image; a released one is refused (the platform's release pointer is a foreign key). */
  async delete(id: number): Promise<void> {
    await refusedAs(this.db.deleteFrom('images').where('id', '=', id).execute(), {
      foreignKey: () =>
        new DomainError('image-released', 'this image is released: release another image before deleting it'),
    });
  }

  /** Whether some image row, or a part of a release's install asset, points at the blob. */
  async references(key: string): Promise<boolean> {
    if ((await this.db.selectFrom('images').select('id').where('sha256', '=', key).executeTakeFirst()) !== undefined) {
      return true;
    }
    const part = await this.db
      .selectFrom('install_asset_parts')
      .select('asset_id')
      .where('blob_key', '=', key)
      .executeTakeFirst();
    return part !== undefined;
  }

  /** Every blob key some image row or install asset part points at. */
  async referencedBlobs(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('images')
      .select('sha256 as key')
      .union(this.db.selectFrom('install_asset_parts').select('blob_key as key'))
      .execute();
    return new Set(rows.map((r) => r.key));
  }
}

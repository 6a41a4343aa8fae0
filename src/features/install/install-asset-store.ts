import type { Database } from '../../db/database.js';
import { refusedAs } from '../../db/database-errors.js';
import type { InstallAssetPartRow, InstallAssetRow } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';

export interface InstallAsset extends InstallAssetRow {
  /** In flash order. */
  parts: InstallAssetPartRow[];
}

export type NewInstallAsset = Omit<InstallAssetRow, 'id'> & { parts: Omit<InstallAssetPartRow, 'asset_id'>[] };

/** Install assets of releases (migration 011): one per OTA image, its parts pointing at blobs. */
export class InstallAssetStore {
  constructor(private readonly db: Database) {}

  async forImage(imageId: number): Promise<InstallAsset | undefined> {
    const asset = await this.db
      .selectFrom('install_assets')
      .selectAll()
      .where('image_id', '=', imageId)
      .executeTakeFirst();
    if (!asset) return undefined;
    const parts = await this.db
      .selectFrom('install_asset_parts')
      .selectAll()
      .where('asset_id', '=', asset.id)
      .orderBy('flash_offset')
      .execute();
    return { ...asset, parts };
  }

  /** Image ids that have an install asset, among these. */
  async imagesWithAssets(imageIds: number[]): Promise<Set<number>> {
    if (imageIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('install_assets')
      .select('image_id')
      .where('image_id', 'in', imageIds)
      .execute();
    return new Set(rows.map((r) => r.image_id));
  }

  async insert(asset: NewInstallAsset): Promise<InstallAsset> {
    const { parts, ...row } = asset;
    const inserted = await refusedAs(
      this.db.insertInto('install_assets').values(row).returningAll().executeTakeFirstOrThrow(),
      {
        unique: () =>
          new DomainError('install-asset-exists', 'this release already has an install asset: remove it first'),
      },
    );
    const rows = parts.map((part) => ({ ...part, asset_id: inserted.id }));
    await this.db.insertInto('install_asset_parts').values(rows).execute();
    return (await this.forImage(inserted.image_id))!;
  }

  /** Parts rows go with it (foreign key cascade). */
  async delete(assetId: number): Promise<void> {
    await this.db.deleteFrom('install_asset_parts').where('asset_id', '=', assetId).execute();
    await this.db.deleteFrom('install_assets').where('id', '=', assetId).execute();
  }
}

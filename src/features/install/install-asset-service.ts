import type { Readable } from 'node:stream';
import { BlobTooLargeError, type BlobStore, type StagedBlob } from '../../blobs/blob-store.js';
import type { ImageRow, PlatformRow } from '../../db/tables.js';
import {
  analyzeFactoryImage,
  analyzeInstallParts,
  chipDisplayName,
  installsApp,
  isChipName,
  type InstallAnalysis,
  type InstallPartRole,
} from '../../firmware-image/index.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import { hex } from '../../firmware-image/byte-reader.js';
import { isRowId } from '../../lib/row-id.js';
import { storageFailure } from '../../lib/storage-errors.js';
import type { Catalogue, Stores } from '../catalogue.js';
import { changeEvent } from '../platforms/platform-service.js';
import type { InstallAsset } from './install-asset-store.js';
import { installManifest, installPartFile, webToolsChipFamily, type InstallManifest } from './install-manifest.js';

/** What a person sends: one factory image, or the three parts of a build. */
export type InstallFiles<T> = { factory: T } | { bootloader: T; partitionTable: T; app: T };

/** What the platform page shows of a release's install asset. */
export interface InstallAssetView {
  imageId: number;
  version: string;
  layout: 'factory' | 'parts';
  chip: string;
  createdBy: string;
  createdAt: number;
  parts: { role: InstallPartRole; offset: number; size: number }[];
  /** Where ESP Web Tools reads the manifest (absolute path on this server). */
  manifestPath: string;
}

/** A part's bytes as served to the browser. */
export interface InstallPartFile {
  bytes: Buffer;
  md5: string;
  sha256: string;
}

/**
 * Install assets of releases (issue 15 item 2): the files ESP Web Tools writes to a new board from the browser. They
 * are never OTA images: the upload analyser still refuses factory images, and these are accepted only here, for one
 * release, when the application they write is that release's OTA image byte for byte.
 */
export class InstallAssetService {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly uploadLimit: number,
    /** After a removal: its files can be collected once the grace period has passed. */
    private readonly onDelete: () => void = () => undefined,
  ) {}

  /** Streams one file into staging (hashed, size-limited); the caller passes it to `add`, which discards it. */
  async stage(source: Readable): Promise<StagedBlob> {
    try {
      return await this.blobs.stage(source, this.uploadLimit);
    } catch (error) {
      if (error instanceof BlobTooLargeError) {
        throw new DomainError(
          'upload-too-large',
          `the file is larger than the upload limit (${this.uploadLimit} bytes)`,
        );
      }
      throw storageFailure(error, 'the install asset was not kept') ?? error;
    }
  }

  /** Checks the files against the release and keeps them as its install asset. Discards the staged files. */
  async add(imageId: number, files: InstallFiles<StagedBlob>, actor: string): Promise<InstallAsset> {
    try {
      return await this.accept(imageId, files, actor);
    } catch (error) {
      throw storageFailure(error, 'the install asset was not kept') ?? error;
    } finally {
      for (const file of Object.values(files) as StagedBlob[]) await file.discard();
    }
  }

  private async accept(imageId: number, files: InstallFiles<StagedBlob>, actor: string): Promise<InstallAsset> {
    const image = await this.image(imageId);
    const layout = await analyze(files);
    if (layout.kind === 'rejected') throw new DomainError('install-asset-rejected', layout.reason);
    checkRelease(image, layout);
    const release = await this.blobs.read(image.sha256);
    if (!installsApp(layout, release)) {
      throw new DomainError(
        'install-app-mismatch',
        `the application the install would write at ${hex(layout.appPartition.offset)} (${layout.app.descriptor.projectName} ${layout.app.descriptor.version}, ${layout.app.size} bytes) is not version ${image.version}'s OTA image byte for byte: build both from the same build`,
      );
    }
    const staged = stagedByRole(files);
    for (const file of staged.values()) await file.commit();
    const now = this.clock.now();
    const asset = await this.catalogue.transact(async (stores) => {
      const { platform } = await lockedImage(stores, imageId);
      if (await stores.installAssets.forImage(imageId)) {
        throw new DomainError(
          'install-asset-exists',
          `version ${image.version} on "${platform.name}" already has an install asset: remove it first`,
        );
      }
      const inserted = await stores.installAssets.insert({
        image_id: imageId,
        layout: 'factory' in files ? 'factory' : 'parts',
        chip: layout.chip,
        app_offset: layout.appPartition.offset,
        created_by: actor,
        created_at: now,
        parts: layout.parts.map((part) => {
          const blob = staged.get(part.role)!;
          return { role: part.role, flash_offset: part.offset, blob_key: blob.key, size: blob.size, md5: blob.md5 };
        }),
      });
      await stores.events.append([
        {
          ...changeEvent(now, 'install-asset-added', platform.name, actor, describeAsset(inserted)),
          to_version: image.version,
        },
      ]);
      return inserted;
    });
    return asset;
  }

  async forImage(imageId: number): Promise<InstallAsset | undefined> {
    await this.image(imageId);
    return this.catalogue.stores.installAssets.forImage(imageId);
  }

  /** The install asset of the platform's released application, if it has one, for the platform page. */
  async releasedView(platform: {
    name: string;
    released_app_id: number | null;
  }): Promise<InstallAssetView | undefined> {
    if (platform.released_app_id === null) return undefined;
    const image = await this.catalogue.stores.images.findById(platform.released_app_id);
    const asset = image && (await this.catalogue.stores.installAssets.forImage(image.id));
    if (!image || !asset) return undefined;
    return {
      imageId: image.id,
      version: image.version,
      layout: asset.layout,
      chip: asset.chip,
      createdBy: asset.created_by,
      createdAt: asset.created_at,
      parts: asset.parts.map((p) => ({ role: p.role, offset: p.flash_offset, size: p.size })),
      manifestPath: `/ota/${encodeURIComponent(platform.name)}/install-manifest.json`,
    };
  }

  /** Removes a release's install asset; its files go when the collector finds nothing pointing at them. */
  async remove(imageId: number, actor: string): Promise<void> {
    if (!isRowId(imageId)) throw unknownImage(imageId);
    const now = this.clock.now();
    await this.catalogue.transact(async (stores) => {
      const { image, platform } = await lockedImage(stores, imageId);
      const asset = await stores.installAssets.forImage(imageId);
      if (!asset) throw new DomainError('no-install-asset', `version ${image.version} has no install asset`);
      await stores.installAssets.delete(asset.id);
      await stores.events.append([
        {
          ...changeEvent(now, 'install-asset-removed', platform.name, actor, describeAsset(asset)),
          from_version: image.version,
        },
      ]);
    });
    this.onDelete();
  }

  /** The ESP Web Tools manifest of the platform's released image; 404 when it has no install asset. */
  async manifest(platformName: string): Promise<InstallManifest> {
    const { platform, image, asset } = await this.released(platformName);
    return installManifest(platform.name, image.version, asset);
  }

  /** A part of the released image's install asset, by its file name (`<sha256>.bin`). */
  async part(platformName: string, file: string): Promise<InstallPartFile> {
    const { asset } = await this.released(platformName);
    const part = asset.parts.find((p) => installPartFile(p.blob_key) === file);
    if (!part) {
      throw new DomainError(
        'no-install-asset',
        'no such file in the released image’s install asset (reload the manifest)',
      );
    }
    return { bytes: await this.blobs.read(part.blob_key), md5: part.md5, sha256: part.blob_key };
  }

  private async released(platformName: string) {
    const platform = await this.catalogue.stores.platforms.findByName(platformName);
    if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${platformName}"`);
    const image =
      platform.released_app_id !== null
        ? await this.catalogue.stores.images.findById(platform.released_app_id)
        : undefined;
    const asset = image && (await this.catalogue.stores.installAssets.forImage(image.id));
    if (!image || !asset) {
      throw new DomainError(
        'no-install-asset',
        image
          ? `the released version ${image.version} of "${platform.name}" has no install asset`
          : `"${platform.name}" has no released application`,
      );
    }
    return { platform, image, asset };
  }

  private async image(imageId: number): Promise<ImageRow> {
    const image = isRowId(imageId) ? await this.catalogue.stores.images.findById(imageId) : undefined;
    if (!image) throw unknownImage(imageId);
    return image;
  }
}

async function analyze(files: InstallFiles<StagedBlob>): Promise<InstallAnalysis> {
  if ('factory' in files) return analyzeFactoryImage(await files.factory.read());
  return analyzeInstallParts({
    bootloader: await files.bootloader.read(),
    partitionTable: await files.partitionTable.read(),
    app: await files.app.read(),
  });
}

/** The release must be an ESP32-family application for the same chip, and one ESP Web Tools can flash. */
function checkRelease(image: ImageRow, layout: Extract<InstallAnalysis, { kind: 'install' }>): void {
  if (image.kind !== 'app') {
    throw new DomainError(
      'install-asset-rejected',
      'install assets belong to application images, not filesystem images',
    );
  }
  if (image.chip !== layout.chip) {
    const chip = image.chip && isChipName(image.chip) ? chipDisplayName(image.chip) : 'another chip';
    throw new DomainError(
      'install-app-mismatch',
      `the install asset is for ${chipDisplayName(layout.chip)}, but version ${image.version} is built for ${chip}`,
    );
  }
  if (!webToolsChipFamily(layout.chip)) {
    throw new DomainError(
      'install-asset-rejected',
      `ESP Web Tools cannot flash ${chipDisplayName(layout.chip)}, so a browser install of it is not offered`,
    );
  }
}

function stagedByRole(files: InstallFiles<StagedBlob>): Map<InstallPartRole, StagedBlob> {
  if ('factory' in files) return new Map([['factory', files.factory]]);
  return new Map<InstallPartRole, StagedBlob>([
    ['bootloader', files.bootloader],
    ['partition-table', files.partitionTable],
    ['app', files.app],
  ]);
}

/** `factory image (1028496 bytes) at 0x0` or `bootloader at 0x0, partition-table at 0x8000, app at 0x20000`. */
function describeAsset(asset: InstallAsset): string {
  if (asset.layout === 'factory') return `factory image (${asset.parts[0]?.size ?? 0} bytes) at 0x0`;
  return asset.parts.map((p) => `${p.role} at ${hex(p.flash_offset)}`).join(', ');
}

async function lockedImage(stores: Stores, id: number): Promise<{ image: ImageRow; platform: PlatformRow }> {
  const seen = await stores.images.findById(id);
  const platform = seen && (await stores.platforms.lockById(seen.platform_id));
  const image = platform && (await stores.images.findById(id));
  if (!platform || !image) throw unknownImage(id);
  return { image, platform };
}

function unknownImage(id: number): DomainError {
  return new DomainError('unknown-image', `there is no firmware image with id ${id}`);
}

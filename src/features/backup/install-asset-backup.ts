import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { BlobStore, StagedBlob } from '../../blobs/blob-store.js';
import {
  analyzeFactoryImage,
  analyzeInstallParts,
  installsApp,
  type InstallPartRole,
} from '../../firmware-image/index.js';
import type { Stores } from '../catalogue.js';
import { FIRMWARE_DIR, type ExportedInstallAsset } from './export-format.js';
import { ImportError, readExportFile } from './export-reader.js';
import type { NewInstallAsset } from '../install/install-asset-store.js';

/**
 * A release's install asset in an export (README "Installing from a browser"): its files beside the images, named
 * by SHA-256. Offsets are not exported: an import places the files again with the analyser and checks, as the REST
 * route does, that the application they write is the image's, so an edited export cannot smuggle another one in.
 */
export async function exportInstallAsset(stores: Stores, imageId: number): Promise<ExportedInstallAsset | undefined> {
  const asset = await stores.installAssets.forImage(imageId);
  if (!asset) return undefined;
  return {
    layout: asset.layout,
    createdBy: asset.created_by,
    createdAt: new Date(asset.created_at).toISOString(),
    parts: asset.parts.map((p) => ({ role: p.role, file: `${FIRMWARE_DIR}/${p.blob_key}.bin`, sha256: p.blob_key })),
  };
}

const PART_ROLES: Record<ExportedInstallAsset['layout'], InstallPartRole[]> = {
  factory: ['factory'],
  parts: ['bootloader', 'partition-table', 'app'],
};

/** Why an exported install asset cannot be imported with its image, or undefined when it can. */
export async function checkInstallAsset(
  dir: string,
  asset: ExportedInstallAsset,
  imageFile: string,
  uploadLimit: number,
): Promise<string | undefined> {
  const roles = asset.parts.map((p) => p.role).sort();
  if (roles.join() !== [...PART_ROLES[asset.layout]].sort().join()) {
    return `its install asset (${asset.layout}) lists the parts ${roles.join(', ') || 'none'}`;
  }
  const bytes = new Map<string, Buffer>();
  for (const part of asset.parts) {
    const read = await readExportFile(dir, part.file, uploadLimit, 'the upload limit');
    if (typeof read === 'string') return `install asset ${part.role}: ${read}`;
    if (sha256(read) !== part.sha256) return `install asset ${part.role}: ${part.file} does not match its SHA-256`;
    bytes.set(part.role, read);
  }
  const layout =
    asset.layout === 'factory'
      ? analyzeFactoryImage(bytes.get('factory')!)
      : analyzeInstallParts({
          bootloader: bytes.get('bootloader')!,
          partitionTable: bytes.get('partition-table')!,
          app: bytes.get('app')!,
        });
  if (layout.kind === 'rejected') return `install asset: ${layout.reason}`;
  const image = await readExportFile(dir, imageFile, uploadLimit, 'the upload limit');
  if (typeof image === 'string' || !installsApp(layout, image)) {
    return 'install asset: the application it writes is not this image byte for byte';
  }
  return undefined;
}

/** A checked asset whose files are stored: the rows to write for its image. */
export type StoredInstallAsset = Omit<NewInstallAsset, 'image_id'>;

/**
 * Stores a checked asset's files as blobs (before the import's transaction, as images are) and returns its rows.
 * The files are analysed again as stored, against the image's file in the export.
 */
export async function storeInstallAsset(
  dir: string,
  asset: ExportedInstallAsset,
  imageFile: string,
  deps: { blobs: BlobStore; uploadLimit: number },
): Promise<StoredInstallAsset> {
  const staged = new Map<string, StagedBlob>();
  try {
    for (const part of asset.parts) {
      staged.set(part.role, await deps.blobs.stage(createReadStream(join(dir, part.file)), deps.uploadLimit));
    }
    const read = (role: string) => staged.get(role)!.read();
    const layout =
      asset.layout === 'factory'
        ? analyzeFactoryImage(await read('factory'))
        : analyzeInstallParts({
            bootloader: await read('bootloader'),
            partitionTable: await read('partition-table'),
            app: await read('app'),
          });
    const image = await readExportFile(dir, imageFile, deps.uploadLimit, 'the upload limit');
    if (layout.kind === 'rejected' || typeof image === 'string' || !installsApp(layout, image)) {
      throw new ImportError([`the install asset of ${imageFile} changed while it was being imported`]);
    }
    for (const blob of staged.values()) await blob.commit();
    return {
      layout: asset.layout,
      chip: layout.chip,
      app_offset: layout.appPartition.offset,
      created_by: asset.createdBy,
      created_at: Date.parse(asset.createdAt) || Date.now(),
      parts: layout.parts.map((part) => {
        const blob = staged.get(part.role)!;
        return { role: part.role, flash_offset: part.offset, blob_key: blob.key, size: blob.size, md5: blob.md5 };
      }),
    };
  } finally {
    for (const blob of staged.values()) await blob.discard();
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

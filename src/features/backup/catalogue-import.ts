import { createHash } from 'node:crypto';
import { releaseSettingColumns } from '../platforms/release-settings.js';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { NewImage } from '../../db/tables.js';
import type { Catalogue } from '../catalogue.js';
import { analyzeImage } from '../../firmware-image/index.js';
import type { Clock } from '../../lib/clock.js';
import { normalizeMac } from '../../lib/mac.js';
import { versionKey } from '../../lib/version.js';
import { imageRow } from '../firmware/image-row.js';
import { changeEvent } from '../platforms/platform-service.js';
import { nameKey } from '../platforms/platform-store.js';
import type { ExportedPlatform } from './export-format.js';
import { ImportError, readExport, readExportFile } from './export-reader.js';
import { checkExportedPlatform } from './export-values.js';
import { checkExportedDeviceKeys, restoreDeviceKeys } from './device-key-backup.js';
import { checkExportedGroups, restoreGroups } from './group-backup.js';
import { checkExportedSigning, restoreSigning } from './signing-backup.js';
import { checkInstallAsset, storeInstallAsset, type StoredInstallAsset } from './install-asset-backup.js';

export interface ImportReport {
  platformsCreated: string[];
  devicesAllowed: number;
  imagesImported: string[];
  imagesAlreadyPresent: string[];
  /** Groups and single-device pins created (those already here are kept as they are). */
  groupsCreated: number;
  /** Device keys restored (a device that has a key here keeps it). */
  deviceKeysRestored: number;
  /** Trusted public keys added (a key this platform trusts already is kept). */
  trustedKeysRestored: number;
  /** Install assets restored (an image that has one here keeps it). */
  installAssetsRestored: number;
}

/** An image that passed every check; its bytes stay in the file until they are applied, one image at a time. */
interface PlannedImage {
  platform: string;
  version: string;
  kind: 'app' | 'filesystem';
  file: string;
  sha256: string;
  filename: string | null;
  uploadedAt: number;
}

/**
 * Restores an export into this catalogue: everything is checked first (YAML shape, every value by the rules the API
 * applies, files within the upload limit and their digests, the analyser, conflicts with what exists), and only a
 * clean plan is applied, in one transaction. One image is in memory at a time. Importing the same export twice
 * changes nothing the second time.
 */
export async function importFromDirectory(
  dir: string,
  deps: { catalogue: Catalogue; blobs: BlobStore; clock: Clock; uploadLimit: number },
): Promise<ImportReport> {
  const exported = await readExport(dir);
  const problems: string[] = [];
  const { stores } = deps.catalogue;
  const existing = await stores.platforms.list();
  const planned: PlannedImage[] = [];
  const report: ImportReport = {
    platformsCreated: [],
    devicesAllowed: 0,
    imagesImported: [],
    imagesAlreadyPresent: [],
    groupsCreated: 0,
    deviceKeysRestored: 0,
    trustedKeysRestored: 0,
    installAssetsRestored: 0,
  };

  const platforms: ExportedPlatform[] = [];
  for (const checked of exported.platforms.map(checkExportedPlatform)) {
    problems.push(...checked.problems);
    platforms.push(checked.platform);
  }
  const steering = platforms.map((p) => checkExportedGroups(p, `platform "${p.name}"`));
  problems.push(...steering.flatMap((s) => s.problems));
  const deviceKeys = platforms.map((p) => checkExportedDeviceKeys(p, `platform "${p.name}"`));
  problems.push(...deviceKeys.flatMap((k) => k.problems));
  const signing = platforms.map((p) => checkExportedSigning(p, `platform "${p.name}"`));
  problems.push(...signing.flatMap((s) => s.problems));
  if (problems.length > 0) throw new ImportError(problems);

  for (const platform of platforms) {
    const where = `platform "${platform.name}"`;
    const current = existing.find((p) => p.name_key === nameKey(platform.name));
    if (current && current.chip && platform.chip && current.chip !== platform.chip) {
      problems.push(`${where}: exists here for ${current.chip}, the export says ${platform.chip}`);
    }
    const kept = current ? await stores.images.listForPlatform(current.id) : [];
    const seen = new Set<string>();
    for (const image of platform.images) {
      const label = `${where} ${image.kind} ${image.version}`;
      const key = `${image.kind} ${versionKey(image.version)}`;
      if (seen.has(key)) problems.push(`${label}: listed twice`);
      seen.add(key);
      if (image.installAsset) {
        const problem = await checkInstallAsset(dir, image.installAsset, image.file, deps.uploadLimit);
        if (problem) problems.push(`${label}: ${problem}`);
      }
      const same = kept.find((k) => k.kind === image.kind && k.version_key === versionKey(image.version));
      if (same) {
        if (same.sha256 === image.sha256) report.imagesAlreadyPresent.push(`${platform.name} ${image.version}`);
        else
          problems.push(
            `${label}: this server already has that version with other bytes (sha256 ${same.sha256.slice(0, 12)}…)`,
          );
        continue;
      }
      const problem = await checkImageFile(dir, image, deps.uploadLimit);
      if (problem) problems.push(`${label}: ${problem}`);
      else
        planned.push({
          platform: platform.name,
          version: image.version,
          kind: image.kind,
          file: image.file,
          sha256: image.sha256,
          filename: image.filename,
          uploadedAt: Date.parse(image.uploadedAt) || deps.clock.now(),
        });
    }
  }
  if (problems.length > 0) throw new ImportError(problems);

  // Blobs first (an unreferenced blob is collected later); rows in one transaction.
  const rows = new Map<PlannedImage, NewImage>();
  for (const image of planned) rows.set(image, await storeImage(dir, image, deps.blobs, deps.uploadLimit));
  const assets = new Map<ExportedPlatform['images'][number], StoredInstallAsset>();
  for (const image of platforms.flatMap((p) => p.images)) {
    if (image.installAsset) assets.set(image, await storeInstallAsset(dir, image.installAsset, image.file, deps));
  }
  const now = deps.clock.now();
  await deps.catalogue.transact(async (tx) => {
    for (const platform of platforms) {
      let row = await tx.platforms.lockByName(platform.name);
      if (!row) {
        row = await tx.platforms.insert({
          name: platform.name,
          name_key: nameKey(platform.name),
          chip: platform.chip,
          access_mode: platform.accessMode,
          released_app_id: null,
          released_fs_id: null,
          app_release_pinned: platform.releasePinned ? 1 : 0,
          fs_partition_size: platform.fsPartitionSize,
          device_auth: platform.deviceAuth,
          device_user: platform.deviceUser,
          device_secret_hash: platform.deviceSecretHash,
          ...releaseSettingColumns(platform),
          ...(platform.esp8266Gzip ? { esp8266_gzip: platform.esp8266Gzip } : {}),
          created_at: now,
          updated_at: now,
        });
        report.platformsCreated.push(platform.name);
      }
      const allowed = new Set((await tx.allowlist.list(row.id)).map((a) => a.mac));
      for (const entry of platform.allowlist) {
        const mac = normalizeMac(entry.mac)!;
        if (allowed.has(mac)) continue;
        await tx.allowlist.upsert({
          platform_id: row.id,
          mac,
          label: entry.label,
          created_at: now,
          secret_hash: entry.secretHash,
        });
        report.devicesAllowed++;
      }
      for (const image of planned.filter((p) => p.platform === platform.name)) {
        await tx.images.insert({ ...rows.get(image)!, platform_id: row.id });
        report.imagesImported.push(`${platform.name} ${image.version}`);
      }
      const restored = await tx.images.listForPlatform(row.id);
      for (const image of platform.images) {
        const target = restored.find((i) => i.kind === image.kind && i.version_key === versionKey(image.version));
        const asset = assets.get(image);
        // An image that has an install asset here keeps it.
        if (!asset || !target || (await tx.installAssets.forImage(target.id))) continue;
        await tx.installAssets.insert({ ...asset, image_id: target.id });
        report.installAssetsRestored++;
      }
      await restoreReleases(tx, row.id, platform, now);
      report.groupsCreated += await restoreGroups(tx, row.id, steering[platforms.indexOf(platform)]!, now);
      report.deviceKeysRestored += await restoreDeviceKeys(
        tx,
        row.id,
        deviceKeys[platforms.indexOf(platform)]!.keys,
        now,
      );
      report.trustedKeysRestored += await restoreSigning(
        tx,
        (await tx.platforms.findById(row.id))!,
        signing[platforms.indexOf(platform)]!.signing,
        now,
      );
      await tx.events.append([changeEvent(now, 'import', platform.name, 'import')]);
    }
    // Once every platform exists: a minimal platform may come after the one it is paired with.
    for (const platform of platforms) {
      if (!platform.minimalPlatform || !report.platformsCreated.includes(platform.name)) continue;
      const row = (await tx.platforms.findByName(platform.name))!;
      const minimal = await tx.platforms.findByName(platform.minimalPlatform);
      if (minimal && minimal.id !== row.id) await tx.platforms.update(row.id, { minimal_platform_id: minimal.id });
    }
  });
  return report;
}

/** Points the releases where the export had them, unless this server already released something there. */
async function restoreReleases(
  tx: Catalogue['stores'],
  platformId: number,
  platform: ExportedPlatform,
  now: number,
): Promise<void> {
  const row = (await tx.platforms.findById(platformId))!;
  const images = await tx.images.listForPlatform(platformId);
  const find = (kind: 'app' | 'filesystem', version: string | null) =>
    version === null ? undefined : images.find((i) => i.kind === kind && i.version_key === versionKey(version));
  const app = row.released_app_id === null ? find('app', platform.releasedApp) : undefined;
  const fs = row.released_fs_id === null ? find('filesystem', platform.releasedFilesystem) : undefined;
  if (!app && !fs) return;
  await tx.platforms.update(platformId, {
    ...(app ? { released_app_id: app.id, app_release_pinned: platform.releasePinned ? 1 : 0 } : {}),
    ...(fs ? { released_fs_id: fs.id } : {}),
    ...(app && !row.chip ? { chip: app.chip } : {}),
    updated_at: now,
  });
}

/** Why an image file cannot be imported, or undefined when it can; its bytes are not kept. */
async function checkImageFile(
  dir: string,
  image: ExportedPlatform['images'][number],
  uploadLimit: number,
): Promise<string | undefined> {
  const bytes = await readExportFile(dir, image.file, uploadLimit, 'the upload limit');
  if (typeof bytes === 'string') return bytes;
  if (sha256(bytes) !== image.sha256) return `${image.file} does not match its SHA-256 (damaged or edited)`;
  const analysis = analyzeImage(bytes);
  if (analysis.kind === 'rejected') return analysis.reason;
  if ((analysis.kind === 'app') !== (image.kind === 'app'))
    return `the file is ${analysis.kind === 'app' ? 'an application' : 'a filesystem'} image`;
  return undefined;
}

/** Stores one checked image's bytes as a blob and returns its row (platform id still to fill in). */
async function storeImage(dir: string, image: PlannedImage, blobs: BlobStore, uploadLimit: number): Promise<NewImage> {
  const staged = await blobs.stage(createReadStream(join(dir, image.file)), uploadLimit);
  try {
    const bytes = await staged.read();
    const analysis = analyzeImage(bytes);
    if (staged.sha256 !== image.sha256 || analysis.kind === 'rejected')
      throw new ImportError([`${image.file} changed while it was being imported`]);
    await staged.commit();
    return imageRow({
      platformId: 0,
      version: image.version,
      bytes,
      blob: staged,
      analysis,
      identitySource: 'import',
      filename: image.filename,
      uploadedAt: image.uploadedAt,
    });
  } finally {
    await staged.discard();
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobInfo, BlobStore } from '../../blobs/blob-store.js';
import type { Catalogue } from '../../db/stores.js';
import { analyzeImage, type ImageAnalysis } from '../../firmware-image/index.js';
import type { Clock } from '../../lib/clock.js';
import { normalizeMac } from '../../lib/mac.js';
import { versionKey } from '../../lib/version.js';
import { imageRow } from '../firmware/image-row.js';
import { changeEvent } from '../platforms/platform-service.js';
import { nameKey } from '../platforms/platform-store.js';
import type { ExportedPlatform } from './export-format.js';
import { ImportError, readExport } from './export-reader.js';
import { checkExportedPlatform } from './export-values.js';

export interface ImportReport {
  platformsCreated: string[];
  devicesAllowed: number;
  imagesImported: string[];
  imagesAlreadyPresent: string[];
}

interface PlannedImage {
  platform: string;
  version: string;
  kind: 'app' | 'filesystem';
  path: string;
  bytes: Buffer;
  analysis: Exclude<ImageAnalysis, { kind: 'rejected' }>;
  filename: string | null;
  uploadedAt: number;
}

/**
 * Restores an export into this catalogue: everything is checked first (YAML shape, files and their digests, the
 * analyser, conflicts with what exists), and only a clean plan is applied, in one transaction. Importing the same
 * export twice changes nothing the second time.
 */
export async function importFromDirectory(
  dir: string,
  deps: { catalogue: Catalogue; blobs: BlobStore; clock: Clock },
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
  };

  const platforms: ExportedPlatform[] = [];
  for (const checked of exported.platforms.map(checkExportedPlatform)) {
    problems.push(...checked.problems);
    platforms.push(checked.platform);
  }
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
      const same = kept.find((k) => k.kind === image.kind && k.version_key === versionKey(image.version));
      if (same) {
        if (same.sha256 === image.sha256) report.imagesAlreadyPresent.push(`${platform.name} ${image.version}`);
        else
          problems.push(
            `${label}: this server already has that version with other bytes (sha256 ${same.sha256.slice(0, 12)}…)`,
          );
        continue;
      }
      const checked = await checkImageFile(dir, image, label);
      if (typeof checked === 'string') problems.push(checked);
      else
        planned.push({
          platform: platform.name,
          version: image.version,
          kind: image.kind,
          path: join(dir, image.file),
          filename: image.filename,
          uploadedAt: Date.parse(image.uploadedAt) || deps.clock.now(),
          ...checked,
        });
    }
  }
  if (problems.length > 0) throw new ImportError(problems);

  // Blobs first (an unreferenced blob is collected later); rows in one transaction.
  const blobs = new Map<PlannedImage, BlobInfo>();
  for (const image of planned) {
    const staged = await deps.blobs.stage(createReadStream(image.path), Number.MAX_SAFE_INTEGER);
    await staged.commit();
    await staged.discard();
    blobs.set(image, staged);
  }
  const now = deps.clock.now();
  await deps.catalogue.transact(async (tx) => {
    for (const platform of platforms) {
      let row = await tx.platforms.findByName(platform.name);
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
        await tx.images.insert(
          imageRow({
            platformId: row.id,
            version: image.version,
            bytes: image.bytes,
            blob: blobs.get(image)!,
            analysis: image.analysis,
            identitySource: 'import',
            filename: image.filename,
            uploadedAt: image.uploadedAt,
          }),
        );
        report.imagesImported.push(`${platform.name} ${image.version}`);
      }
      await restoreReleases(tx, row.id, platform, now);
      await tx.events.append([changeEvent(now, 'import', platform.name, 'import')]);
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

async function checkImageFile(
  dir: string,
  image: ExportedPlatform['images'][number],
  label: string,
): Promise<string | { bytes: Buffer; analysis: Exclude<ImageAnalysis, { kind: 'rejected' }> }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, image.file));
  } catch {
    return `${label}: ${image.file} is missing`;
  }
  if (sha256(bytes) !== image.sha256) return `${label}: ${image.file} does not match its SHA-256 (damaged or edited)`;
  const analysis = analyzeImage(bytes);
  if (analysis.kind === 'rejected') return `${label}: ${analysis.reason}`;
  if ((analysis.kind === 'app') !== (image.kind === 'app'))
    return `${label}: the file is ${analysis.kind === 'app' ? 'an application' : 'a filesystem'} image`;
  return { bytes, analysis };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

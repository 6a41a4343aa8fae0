import { mkdir, writeFile } from 'node:fs/promises';
import { rolloutTemplateJson, updateWindowJson } from '../platforms/release-settings.js';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { BlobStore } from '../../blobs/blob-store.js';
import type { Catalogue } from '../catalogue.js';
import { formatMac } from '../../lib/mac.js';
import { exportDeviceKeys } from './device-key-backup.js';
import { exportGroups } from './group-backup.js';
import { exportSigning } from './signing-backup.js';
import { exportInstallAsset } from './install-asset-backup.js';
import { CATALOGUE_FILE, EXPORT_FORMAT, FIRMWARE_DIR, type ExportedCatalogue } from './export-format.js';

/** Reads the whole catalogue into the export shape (no files touched). */
export async function readCatalogue(catalogue: Catalogue, now: number): Promise<ExportedCatalogue> {
  const { stores } = catalogue;
  const [platforms, allowlist, images] = await Promise.all([
    stores.platforms.list(),
    stores.allowlist.listAll(),
    stores.images.listAll(),
  ]);
  return {
    format: EXPORT_FORMAT,
    exportedAt: new Date(now).toISOString(),
    platforms: await Promise.all(
      platforms.map(async (p) => {
        const own = images.filter((i) => i.platform_id === p.id).sort((a, b) => a.id - b.id);
        return {
          name: p.name,
          chip: p.chip,
          accessMode: p.access_mode,
          fsPartitionSize: p.fs_partition_size,
          releasedApp: own.find((i) => i.id === p.released_app_id)?.version ?? null,
          releasedFilesystem: own.find((i) => i.id === p.released_fs_id)?.version ?? null,
          releasePinned: p.app_release_pinned === 1,
          releasePolicy: p.release_policy,
          rolloutTemplate: rolloutTemplateJson(p.rollout_template),
          updateWindow: updateWindowJson(p.update_window),
          esp8266Gzip: p.esp8266_gzip,
          minimalPlatform: platforms.find((m) => m.id === p.minimal_platform_id)?.name ?? null,
          deviceAuth: p.device_auth,
          deviceUser: p.device_user,
          deviceSecretHash: p.device_secret_hash,
          allowlist: allowlist
            .filter((a) => a.platform_id === p.id)
            .map((a) => ({ mac: formatMac(a.mac), label: a.label, secretHash: a.secret_hash })),
          images: await Promise.all(
            own.map(async (i) => {
              const installAsset = await exportInstallAsset(stores, i.id);
              return {
                kind: i.kind,
                version: i.version,
                file: `${FIRMWARE_DIR}/${i.sha256}.bin`,
                sha256: i.sha256,
                md5: i.md5,
                size: i.size,
                filename: i.filename,
                uploadedAt: new Date(i.uploaded_at).toISOString(),
                ...(installAsset ? { installAsset } : {}),
              };
            }),
          ),
          ...(await exportGroups(stores, p.id)),
          ...(await exportDeviceKeys(stores, p.id)),
          ...(await exportSigning(stores, p)),
        };
      }),
    ),
  };
}

/** Writes `catalogue.yaml` and every referenced image into `dir`. */
export async function exportToDirectory(
  catalogue: Catalogue,
  blobs: BlobStore,
  dir: string,
  now: number,
): Promise<ExportedCatalogue> {
  const exported = await readCatalogue(catalogue, now);
  await mkdir(join(dir, FIRMWARE_DIR), { recursive: true });
  const written = new Set<string>();
  const files = exported.platforms.flatMap((p) => p.images.flatMap((i) => [i, ...(i.installAsset?.parts ?? [])]));
  for (const file of files) {
    if (written.has(file.sha256)) continue;
    await writeFile(join(dir, file.file), await blobs.read(file.sha256));
    written.add(file.sha256);
  }
  const header = '# esp-ota-server catalogue export. Images are in firmware/, named by SHA-256.\n';
  await writeFile(join(dir, CATALOGUE_FILE), header + stringify(exported, { lineWidth: 0 }));
  return exported;
}

import { chipDisplayName, type ChipName } from '../../firmware-image/index.js';
import type { InstallAsset } from './install-asset-store.js';

/** The chip families ESP Web Tools can flash (its `Build.chipFamily`, protocol.md §6.1). */
const WEB_TOOLS_FAMILIES = new Set([
  'ESP32',
  'ESP32-C2',
  'ESP32-C3',
  'ESP32-C5',
  'ESP32-C6',
  'ESP32-C61',
  'ESP32-H2',
  'ESP32-P4',
  'ESP32-S2',
  'ESP32-S3',
  'ESP8266',
]);

/** ESP Web Tools' name for the chip, or undefined when it cannot flash that chip. */
export function webToolsChipFamily(chip: ChipName): string | undefined {
  const family = chipDisplayName(chip);
  return WEB_TOOLS_FAMILIES.has(family) ? family : undefined;
}

/** The file name a part is served under, beside the manifest: its SHA-256, so a changed release is another URL. */
export function installPartFile(blobKey: string): string {
  return `${blobKey}.bin`;
}

export interface InstallManifest {
  name: string;
  version: string;
  /** An erase clears otadata, so the bootloader boots the app just written rather than an older OTA slot. */
  new_install_prompt_erase: boolean;
  builds: { chipFamily: string; parts: { path: string; offset: number }[] }[];
}

/**
 * The ESP Web Tools manifest for a platform's released image and its install asset. Part paths are relative to the
 * manifest's URL (`install/<sha256>.bin`), so they stay right behind a proxy that serves the server under a prefix.
 */
export function installManifest(platformName: string, version: string, asset: InstallAsset): InstallManifest {
  return {
    name: platformName,
    version,
    new_install_prompt_erase: true,
    builds: [
      {
        chipFamily: webToolsChipFamily(asset.chip as ChipName) ?? asset.chip,
        parts: asset.parts.map((part) => ({
          path: `install/${installPartFile(part.blob_key)}`,
          offset: part.flash_offset,
        })),
      },
    ],
  };
}

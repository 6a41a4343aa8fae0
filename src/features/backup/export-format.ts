import type { RolloutPlanInput } from '../rollouts/rollout-policy.js';

/**
 * The human-readable export (`esp-ota export`): `catalogue.yaml` plus `firmware/<sha256>.bin`. Derived data (the
 * analysis) is not exported; import re-analyses every image, so an export stays valid across analyser versions.
 */
export const EXPORT_FORMAT = 'esp-ota-export/1';
export const CATALOGUE_FILE = 'catalogue.yaml';
export const FIRMWARE_DIR = 'firmware';

export interface ExportedImage {
  kind: 'app' | 'filesystem';
  version: string;
  file: string;
  sha256: string;
  md5: string;
  size: number;
  filename: string | null;
  uploadedAt: string;
  /** Its install asset for browser installs (left out when it has none; exports before issue 15 have none). */
  installAsset?: ExportedInstallAsset | undefined;
}

export interface ExportedInstallAsset {
  layout: 'factory' | 'parts';
  createdBy: string;
  createdAt: string;
  parts: { role: 'factory' | 'bootloader' | 'partition-table' | 'app'; file: string; sha256: string }[];
}

export interface ExportedPlatform {
  name: string;
  chip: string | null;
  accessMode: 'allowlist' | 'open';
  fsPartitionSize: number | null;
  /** Versions of the released images (null: none), and whether a person chose the app release. */
  releasedApp: string | null;
  releasedFilesystem: string | null;
  releasePinned: boolean;
  /** Release policy, rollout template and update window (README "Release policy"); absent in older exports. */
  releasePolicy?: 'auto' | 'manual' | 'rollout' | undefined;
  rolloutTemplate?: RolloutPlanInput | null | undefined;
  updateWindow?: { from: string; to: string; timeZone: string } | null | undefined;
  /** ESP8266 gzip and the Tasmota minimal platform, by name (docs/clients.md); absent in older exports. */
  esp8266Gzip?: 'off' | 'auto' | 'on' | undefined;
  minimalPlatform?: string | null | undefined;
  /** Device login; secrets travel only as the SHA-256 the server stores. */
  deviceAuth: 'off' | 'basic' | 'token';
  deviceUser: string | null;
  deviceSecretHash: string | null;
  allowlist: { mac: string; label: string | null; secretHash: string | null }[];
  images: ExportedImage[];
  /** Device groups (left out when there are none; exports written before groups have none). */
  groups?: { name: string; excluded: boolean; pinnedVersion: string | null; macs: string[] }[];
  /** Single devices pinned to an app version. */
  pins?: { mac: string; version: string }[];
  /** Per-device manifest keys (ESPHome), kept as they are: boards carry their URLs. */
  deviceKeys?: { mac: string; key: string; createdBy: string; createdAt: string }[];
  /** ESP8266: the flash mode the boards run (signed images must carry it); absent: none set. */
  flashMode?: string | undefined;
  /** The public keys the platform's boards trust (PEM); never private keys. */
  trustedKeys?: { pem: string; label: string | null; createdBy: string; createdAt: string }[];
}

export interface ExportedCatalogue {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  platforms: ExportedPlatform[];
}

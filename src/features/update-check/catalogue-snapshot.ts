import type { Esp8266Gzip, ImageRow, PlatformRow } from '../../db/tables.js';
import type { ChipFamily, ChipName, ImageAnalysis, SignatureSummary } from '../../firmware-image/index.js';
import { familyOf, isChipName } from '../../firmware-image/index.js';
import type { RolloutPolicy } from '../rollouts/rollout-policy.js';
import type { UpdateWindow } from '../rollouts/update-window.js';

/** What a device check needs to know about a released image, without touching the database. */
export interface ReleasedImage {
  id: number;
  kind: ImageRow['kind'];
  version: string;
  size: number;
  md5: string;
  sha256: string;
  /** Digests a device running this image reports: its MD5 (and ESP8266 variants), the ESP32 appended digest. */
  runningDigests: ReadonlySet<string>;
  family: ChipFamily | undefined;
  /** The chip it is built for (ESPHome's manifest names it as `chipFamily`). */
  chip: ChipName | undefined;
  /** Flash size the ESP8266 header demands; the client refuses (−107) a chip smaller than this. */
  flashSizeBytes: number | undefined;
  /** An uncompressed, unsigned ESP8266 app: a gzip copy of it can be served (docs/clients.md "ESP8266 gzip"). */
  gzippable?: true;
}

export interface PlatformView {
  id: number;
  name: string;
  accessMode: PlatformRow['access_mode'];
  allowlist: ReadonlySet<string>;
  app: ReleasedImage | undefined;
  filesystem: ReleasedImage | undefined;
  /** A person chose the released app: a device on a newer version is offered this older one (rollback). */
  appPinned: boolean;
  fsPartitionSize: number | undefined;
  /** How devices must identify themselves (off: the original's behaviour). */
  deviceAuth: {
    mode: 'off' | 'basic' | 'token';
    user: string | null;
    secretHash: string | null;
    /** Per-device secrets by MAC (allowlist entries that have one). */
    deviceSecrets: ReadonlyMap<string, string>;
  };
  /** Any kept app image, by the digests a device running it reports: tells what a silent device runs. */
  imageByDigest: ReadonlyMap<string, KeptImage>;
  /** Any kept app image, by its version key (`versionKey`): which image a device that reports a version runs. */
  imageByVersion: ReadonlyMap<string, KeptImage>;
  /** The staged rollout moving devices to a new app image, while it is running or paused. */
  rollout: RolloutView | undefined;
  /** Devices a person pinned to an app image (through their groups), by MAC. */
  pins: ReadonlyMap<string, ReleasedImage>;
  /** Devices that rollouts never move (excluded groups), by MAC. */
  excluded: ReadonlySet<string>;
  /** Hours in which devices may be served an update; none: any time. */
  window: UpdateWindow | undefined;
  /** Per-device manifest keys (ESPHome), each standing for a device's MAC (migration 010). */
  deviceKeys: ReadonlyMap<string, string>;
  /** Whether ESP8266 devices get a gzip copy (docs/clients.md); absent: `off`. */
  esp8266Gzip?: Esp8266Gzip;
  /** The paired platform's released app, served as the Tasmota `-minimal` image; absent: none. */
  minimal?: ReleasedImage | undefined;
}

/** A kept image as a device's records name it. */
export interface KeptImage {
  id: number;
  version: string;
  /**
   * Built with ESP8266 Arduino core ≥ 2.7 (it carries the CRC words, protocol.md §4.5): a device running it has the
   * updater and bootloader that install gzip images (§6.4).
   */
  takesGzip?: true;
}

/** What a device check needs to know about a running or paused rollout. */
export interface RolloutView {
  id: number;
  state: 'running' | 'paused';
  target: ReleasedImage;
  /** The current stage's percentage; 0 while only the canary is admitted. */
  percent: number;
  /** Where it is: the stage (the canary, when there is one, is stage 0), how many there are, since when. */
  stageIndex: number;
  stageCount: number;
  stageStartedAt: number;
  /** Devices admitted before any percentage (named devices and the members of canary groups). */
  canary: ReadonlySet<string>;
  /** Its thresholds: how devices' outcomes are inferred and when it pauses or advances by itself. */
  policy: RolloutPolicy;
}

export function toReleasedImage(row: ImageRow): ReleasedImage {
  const analysis = JSON.parse(row.analysis) as ImageAnalysis;
  const chip = row.chip && isChipName(row.chip) ? row.chip : undefined;
  const esp8266App = analysis.kind === 'app' && analysis.family === 'esp8266' ? analysis : undefined;
  return {
    id: row.id,
    kind: row.kind,
    version: row.version,
    size: row.size,
    md5: row.md5,
    sha256: row.sha256,
    runningDigests: new Set(runningDigests(row)),
    family: chip ? familyOf(chip) : undefined,
    chip,
    flashSizeBytes: esp8266App?.flash.sizeBytes,
    // Analyses stored before signatures were recognised say nothing of one: not compressed, to be safe.
    ...(esp8266App &&
    !esp8266App.compression &&
    (esp8266App.signature as SignatureSummary | undefined)?.signed === false
      ? { gzippable: true as const }
      : {}),
  };
}

/** The image as a device's records name it, with what its build says about the updater it carries. */
export function toKeptImage(row: ImageRow): KeptImage {
  const kept: KeptImage = { id: row.id, version: row.version };
  // Only ESP8266 rows are parsed: the flag means nothing for the others, and the load stays cheap.
  if (row.chip === 'esp8266') {
    const analysis = JSON.parse(row.analysis) as ImageAnalysis;
    if (analysis.kind === 'app' && analysis.family === 'esp8266' && analysis.crc) kept.takesGzip = true;
  }
  return kept;
}

export function runningDigests(row: ImageRow): string[] {
  const digests = [row.md5];
  if (row.appended_digest) digests.push(row.appended_digest);
  if (row.md5_variants) digests.push(...(JSON.parse(row.md5_variants) as string[]));
  return digests;
}

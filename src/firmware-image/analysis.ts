import type { ChipName, Esp32ChipName } from './chips.js';
import type { FlashSettings } from './common-header.js';
import type { RejectionCode } from './format-error.js';
import type { Segment } from './segments.js';
import type { SignatureSummary } from './signature/types.js';

/** One verification the analyser performed, shown to people as "checks passed/failed". */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** `esp_app_desc_t` (protocol.md §4.4). */
export interface AppDescriptor {
  secureVersion: number;
  version: string;
  projectName: string;
  time: string;
  date: string;
  idfVersion: string;
  /** Hex of `app_elf_sha256` (esptool patches it in; all zero when it did not). */
  elfSha256: string;
  minEfuseBlockRevision: number;
  maxEfuseBlockRevision: number;
  mmuPageSizeLog2: number;
  spiFlashMode: number;
}

/** Bytes after `image_len`: a secure-boot signature, esptool `--pad-to-size` padding, or something unknown. */
export interface ImageTail {
  offset: number;
  length: number;
  kind: 'padding' | 'signature' | 'unknown';
}

interface AppImageBase {
  kind: 'app';
  chip: ChipName;
  size: number;
  /** Bytes the device will report as its sketch size once it runs this image. */
  imageLength: number;
  flash: FlashSettings;
  entryAddress: number;
  segments: Segment[];
  checks: Check[];
  tail: ImageTail | undefined;
  /** Signed or not, in which layout, with which keys (no key is tried here: see `inspectSignature`). */
  signature: SignatureSummary;
}

export interface Esp32AppImage extends AppImageBase {
  family: 'esp32';
  chip: Esp32ChipName;
  chipId: number;
  /** "major.minor", from `min_chip_rev_full` / `max_chip_rev_full` (major×100+minor). */
  minChipRevision: string;
  maxChipRevision: string;
  hashAppended: boolean;
  /** SHA-256 over [0, checksum], uppercase hex: what `x-ESP32-sketch-sha256` reports for this image. */
  appendedDigest: string | undefined;
  descriptor: AppDescriptor;
}

export interface Esp8266AppImage extends AppImageBase {
  family: 'esp8266';
  chip: 'esp8266';
  /** `arduino`: eboot at 0 + sketch at 0x1000; `plain`: one v1 image with flash-mapped code. */
  layout: 'arduino' | 'plain';
  /** Set for gzip-compressed uploads: `size` is the compressed size, the rest describes the inflated image. */
  compression: 'gzip' | undefined;
  inflatedSize: number | undefined;
  /** Offset of the sketch image (0x1000 in the Arduino layout). */
  sketchOffset: number;
  /** Arduino core ≥ 2.7 writes the file length and a CRC-32 at 0x1010 (protocol.md §4.5). */
  crc: { stored: number; computed: number } | undefined;
}

export type AppImage = Esp32AppImage | Esp8266AppImage;

export interface FilesystemImage {
  kind: 'filesystem';
  fsType: 'littlefs' | 'spiffs' | 'fatfs';
  size: number;
  checks: Check[];
}

export interface RejectedFile {
  kind: 'rejected';
  code: RejectionCode;
  /** A sentence a person understands, e.g. "this is a merged factory image: the app starts at 0x10000". */
  reason: string;
  /** Where the failing check looked, when there is one place. */
  offset: number | undefined;
  size: number;
  checks: Check[];
  /** For merged images: the application inside, analysed on its own, so people can be told what to upload. */
  embeddedApp: { offset: number; image: AppImage } | undefined;
  /** Set for esp32FOTA-signed files (`signed-esp32fota`): the signature in front of the image. */
  signature: SignatureSummary | undefined;
}

export type ImageAnalysis = AppImage | FilesystemImage | RejectedFile;

import type { Esp32AppImage } from './analysis.js';
import { analyzeImage } from './analyze-image.js';
import { ByteReader, hex } from './byte-reader.js';
import { chipDisplayName, chipFromId, type Esp32ChipName } from './chips.js';
import { IMAGE_MAGIC } from './common-header.js';
import { looksLikeEsp32Header } from './esp32-image.js';
import {
  appPartitions,
  PARTITION_TABLE_OFFSET,
  readPartitionTable,
  startsPartitionTable,
  type PartitionEntry,
} from './partition-table.js';

/**
 * Full-flash images for a browser install (ESP Web Tools, protocol.md §6.1): either one factory/merged image written
 * at flash 0, or the three parts a build writes (bootloader, partition table, app) at their own offsets. Pure: bytes
 * in, a layout or a refusal out; it never throws. Only ESP32-family chips: an ESP8266 sketch `.bin` is already a
 * full-flash image at 0.
 */

/** The space the partition table occupies from 0x8000 (ESP-IDF `ESP_PARTITION_TABLE_MAX_LEN`). */
const PARTITION_TABLE_MAX_LENGTH = 0xc00;
const APP_SUBTYPE_FACTORY = 0x00;
const APP_SUBTYPE_OTA_0 = 0x10;

export type InstallPartRole = 'factory' | 'bootloader' | 'partition-table' | 'app';

/** Where a file goes in flash; `bytes` is the file itself. */
export interface InstallPart {
  role: InstallPartRole;
  offset: number;
  bytes: Uint8Array;
}

export interface InstallLayout {
  kind: 'install';
  chip: Esp32ChipName;
  bootloaderOffset: number;
  /** The partition the bootloader boots on a blank otadata: `factory`, else `ota_0`. */
  appPartition: PartitionEntry;
  /** The application in that partition, analysed on its own. */
  app: Esp32AppImage;
  /** The application's bytes as they are written to flash (to the end of the file or of the partition). */
  appRegion: Uint8Array;
  parts: InstallPart[];
}

export interface InstallRefusal {
  kind: 'rejected';
  reason: string;
}

export type InstallAnalysis = InstallLayout | InstallRefusal;

/**
 * Where the ROM loads the second-stage bootloader from (esptool/ESP-IDF `IDF_TARGET_BOOTLOADER_OFFSET`): 0x1000 on
 * ESP32 and ESP32-S2, 0x2000 on ESP32-P4, -C5 and -H4, 0 on the others.
 */
export function bootloaderOffset(chip: Esp32ChipName): number {
  if (chip === 'esp32' || chip === 'esp32s2') return 0x1000;
  if (chip === 'esp32p4' || chip === 'esp32c5' || chip === 'esp32h4') return 0x2000;
  return 0;
}

/** One file written at flash 0: bootloader, partition table at 0x8000 and the app in its partition. */
export function analyzeFactoryImage(bytes: Uint8Array): InstallAnalysis {
  if (bytes.length === 0) return refuse('the file is empty (0 bytes): there is no firmware in it');
  const reader = new ByteReader(bytes);
  const bootloader = findBootloader(reader);
  if (!bootloader) {
    return refuse(
      'this is not a factory image: there is no ESP32-family bootloader where the ROM looks for one (0x0, 0x1000 or 0x2000); upload the application as the release and the factory image (esptool merge_bin, PlatformIO firmware.factory.bin) here',
    );
  }
  if (!startsPartitionTable(reader, PARTITION_TABLE_OFFSET)) {
    return refuse(
      `this is not a factory image: there is a bootloader at ${hex(bootloader.offset)} but no partition table at ${hex(PARTITION_TABLE_OFFSET)}`,
    );
  }
  const table = readPartitionTable(reader, PARTITION_TABLE_OFFSET);
  const partition = bootPartition(table);
  if (!partition) return refuse('the partition table has no application partition (factory or ota_0)');
  if (!reader.has(partition.offset, 1) || reader.u8(partition.offset) !== IMAGE_MAGIC) {
    return refuse(
      `the factory image holds no application at ${hex(partition.offset)}, where its partition table puts partition "${partition.label}"`,
    );
  }
  const appRegion = bytes.subarray(partition.offset, Math.min(bytes.length, partition.offset + partition.size));
  const app = analyzeApp(appRegion, bootloader.chip, `the application at ${hex(partition.offset)}`);
  if (app.kind === 'rejected') return app;
  return {
    kind: 'install',
    chip: bootloader.chip,
    bootloaderOffset: bootloader.offset,
    appPartition: partition,
    app,
    appRegion,
    parts: [{ role: 'factory', offset: 0, bytes }],
  };
}

/** The three files of a build, written at the bootloader's offset, 0x8000 and the boot partition's offset. */
export function analyzeInstallParts(files: {
  bootloader: Uint8Array;
  partitionTable: Uint8Array;
  app: Uint8Array;
}): InstallAnalysis {
  const reader = new ByteReader(files.bootloader);
  const chip = looksLikeEsp32Header(reader) ? chipFromId(reader.u16(12)) : undefined;
  if (files.bootloader.length === 0 || files.bootloader[0] !== IMAGE_MAGIC || !chip) {
    return refuse('the bootloader part is not an ESP32-family bootloader image (it must start with 0xE9)');
  }
  if (analyzeImage(files.bootloader).kind === 'app') {
    return refuse('the bootloader part is an application image, not a bootloader');
  }
  const offset = bootloaderOffset(chip);
  if (offset + files.bootloader.length > PARTITION_TABLE_OFFSET) {
    return refuse(
      `the bootloader part (${files.bootloader.length} bytes from ${hex(offset)}) would overwrite the partition table at ${hex(PARTITION_TABLE_OFFSET)}`,
    );
  }
  const tableReader = new ByteReader(files.partitionTable);
  if (!startsPartitionTable(tableReader, 0) || files.partitionTable.length > PARTITION_TABLE_MAX_LENGTH) {
    return refuse(
      `the partition-table part is not an ESP-IDF partition table (32-byte entries starting AA 50, at most ${PARTITION_TABLE_MAX_LENGTH} bytes)`,
    );
  }
  const partition = bootPartition(readPartitionTable(tableReader, 0));
  if (!partition) return refuse('the partition table has no application partition (factory or ota_0)');
  if (partition.offset < PARTITION_TABLE_OFFSET + PARTITION_TABLE_MAX_LENGTH) {
    return refuse(
      `the partition table puts partition "${partition.label}" at ${hex(partition.offset)}, inside the table`,
    );
  }
  if (files.app.length > partition.size) {
    return refuse(
      `the app part (${files.app.length} bytes) is larger than partition "${partition.label}" (${partition.size} bytes)`,
    );
  }
  const app = analyzeApp(files.app, chip, 'the app part');
  if (app.kind === 'rejected') return app;
  return {
    kind: 'install',
    chip,
    bootloaderOffset: offset,
    appPartition: partition,
    app,
    appRegion: files.app,
    parts: [
      { role: 'bootloader', offset, bytes: files.bootloader },
      { role: 'partition-table', offset: PARTITION_TABLE_OFFSET, bytes: files.partitionTable },
      { role: 'app', offset: partition.offset, bytes: files.app },
    ],
  };
}

/**
 * True when the install writes exactly these application bytes: the released OTA image, byte for byte, at the start
 * of its partition. That implies the same ELF SHA-256 and the same appended digest (which is what a board reports
 * as its sketch SHA-256 afterwards), and it also holds for images without either.
 */
export function installsApp(layout: InstallLayout, otaImage: Uint8Array): boolean {
  if (otaImage.length === 0 || layout.appRegion.length < otaImage.length) return false;
  return Buffer.from(layout.appRegion.buffer, layout.appRegion.byteOffset, otaImage.length).equals(otaImage);
}

function findBootloader(reader: ByteReader): { offset: number; chip: Esp32ChipName } | undefined {
  for (const offset of [0, 0x1000, 0x2000]) {
    if (!reader.has(offset, 1) || reader.u8(offset) !== IMAGE_MAGIC || !looksLikeEsp32Header(reader, offset)) continue;
    const chip = chipFromId(reader.u16(offset + 12));
    // The ROM reads the bootloader from one place per chip: a header elsewhere is not a bootloader it would run.
    if (chip && bootloaderOffset(chip) === offset) return { offset, chip };
  }
  return undefined;
}

/** What the bootloader boots when otadata is blank (after an erase): the factory app, else ota_0. */
function bootPartition(table: PartitionEntry[]): PartitionEntry | undefined {
  const apps = appPartitions(table);
  return (
    apps.find((p) => p.subtype === APP_SUBTYPE_FACTORY) ?? apps.find((p) => p.subtype === APP_SUBTYPE_OTA_0) ?? apps[0]
  );
}

function analyzeApp(bytes: Uint8Array, chip: Esp32ChipName, what: string): Esp32AppImage | InstallRefusal {
  const analysis = analyzeImage(bytes);
  if (analysis.kind !== 'app' || analysis.family !== 'esp32') {
    const why = analysis.kind === 'rejected' ? analysis.reason : 'it is not an ESP32-family application';
    return refuse(`${what} is not a valid application: ${why}`);
  }
  if (analysis.chip !== chip) {
    return refuse(
      `${what} is built for ${chipDisplayName(analysis.chip)}, but the bootloader for ${chipDisplayName(chip)}`,
    );
  }
  return analysis;
}

function refuse(reason: string): InstallRefusal {
  return { kind: 'rejected', reason };
}

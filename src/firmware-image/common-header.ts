import type { ByteReader } from './byte-reader.js';
import type { ChipName } from './chips.js';

/** Flash settings from bytes 2–3 of the common image header (protocol.md §4.1). */
export interface FlashSettings {
  mode: string;
  modeCode: number;
  sizeCode: number;
  /** Bytes; undefined for a size nibble the chip does not define. */
  sizeBytes: number | undefined;
  frequencyCode: number;
  /** MHz; undefined where the nibble's meaning differs by chip and we do not know it. */
  frequencyMHz: number | undefined;
}

export interface CommonHeader {
  magic: number;
  segmentCount: number;
  flash: FlashSettings;
  entryAddress: number;
}

export const IMAGE_MAGIC = 0xe9;
export const ESP8266_V2_MAGIC = 0xea;

const FLASH_MODES = ['QIO', 'QOUT', 'DIO', 'DOUT', 'FAST_READ', 'SLOW_READ'];
const MB = 1024 * 1024;
const ESP8266_FLASH_SIZES: Record<number, number> = {
  0: 512 * 1024,
  1: 256 * 1024,
  2: 1 * MB,
  3: 2 * MB,
  4: 4 * MB,
  5: 2 * MB,
  6: 4 * MB,
  8: 8 * MB,
  9: 16 * MB,
};
/** ESP8266 and the original ESP32 family share this table; C2/C6/H2 and newer use other clocks. */
const CLASSIC_FREQUENCIES: Record<number, number> = { 0x0: 40, 0x1: 26, 0x2: 20, 0xf: 80 };
const CLASSIC_FREQUENCY_CHIPS: ReadonlySet<ChipName> = new Set(['esp8266', 'esp32', 'esp32s2', 'esp32s3', 'esp32c3']);

export function readCommonHeader(reader: ByteReader, offset: number, chip: ChipName): CommonHeader {
  const magic = reader.u8(offset, 'image header');
  const segmentCount = reader.u8(offset + 1, 'image header');
  const modeCode = reader.u8(offset + 2, 'image header');
  const sizeFreq = reader.u8(offset + 3, 'image header');
  const entryAddress = reader.u32(offset + 4, 'image header');
  return { magic, segmentCount, entryAddress, flash: decodeFlash(modeCode, sizeFreq, chip) };
}

export function decodeFlash(modeCode: number, sizeFreq: number, chip: ChipName): FlashSettings {
  const sizeCode = sizeFreq >> 4;
  const frequencyCode = sizeFreq & 0x0f;
  const sizeBytes = chip === 'esp8266' ? ESP8266_FLASH_SIZES[sizeCode] : sizeCode <= 7 ? MB << sizeCode : undefined;
  return {
    mode: FLASH_MODES[modeCode] ?? `unknown (${modeCode})`,
    modeCode,
    sizeCode,
    sizeBytes,
    frequencyCode,
    frequencyMHz: CLASSIC_FREQUENCY_CHIPS.has(chip) ? CLASSIC_FREQUENCIES[frequencyCode] : undefined,
  };
}

export function formatBytes(bytes: number): string {
  if (bytes >= MB && bytes % MB === 0) return `${bytes / MB} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} B`;
}

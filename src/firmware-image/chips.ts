/** `esp_image_header_t.chip_id` values (protocol.md §4.2; esp-idf `esp_chip_id_t`, esptool `IMAGE_CHIP_ID`). */
const CHIPS_BY_ID: ReadonlyMap<number, Esp32ChipName> = new Map([
  [0x00, 'esp32'],
  [0x02, 'esp32s2'],
  [0x05, 'esp32c3'],
  [0x09, 'esp32s3'],
  [0x0c, 'esp32c2'],
  [0x0d, 'esp32c6'],
  [0x10, 'esp32h2'],
  [0x12, 'esp32p4'],
  [0x14, 'esp32c61'],
  [0x17, 'esp32c5'],
  [0x19, 'esp32h21'],
  [0x1c, 'esp32h4'],
  [0x1f, 'esp32e22'],
  [0x20, 'esp32s31'],
]);

/** Ids of pre-release silicon that esptool once knew; images for them cannot run on production chips. */
const RETIRED_BETA_IDS: ReadonlyMap<number, string> = new Map([
  [0x04, 'ESP32-S3 beta 2'],
  [0x07, 'ESP32-C6 beta'],
  [0x0a, 'ESP32-H2 beta 1'],
  [0x0e, 'ESP32-H2 beta 2'],
  [0x11, 'ESP32-C5 beta 3'],
]);

export type Esp32ChipName =
  | 'esp32'
  | 'esp32s2'
  | 'esp32c3'
  | 'esp32s3'
  | 'esp32c2'
  | 'esp32c6'
  | 'esp32h2'
  | 'esp32p4'
  | 'esp32c61'
  | 'esp32c5'
  | 'esp32h21'
  | 'esp32h4'
  | 'esp32e22'
  | 'esp32s31';

export type ChipName = Esp32ChipName | 'esp8266';
export type ChipFamily = 'esp32' | 'esp8266';

export const CHIP_NAMES: readonly ChipName[] = ['esp8266', ...CHIPS_BY_ID.values()];

export function chipFromId(chipId: number): Esp32ChipName | undefined {
  return CHIPS_BY_ID.get(chipId);
}

export function retiredBetaChip(chipId: number): string | undefined {
  return RETIRED_BETA_IDS.get(chipId);
}

export function isKnownChipId(chipId: number): boolean {
  return CHIPS_BY_ID.has(chipId) || RETIRED_BETA_IDS.has(chipId);
}

export function familyOf(chip: ChipName): ChipFamily {
  return chip === 'esp8266' ? 'esp8266' : 'esp32';
}

/** "ESP32-S3" style name for people. */
export function chipDisplayName(chip: ChipName): string {
  if (chip === 'esp8266') return 'ESP8266';
  if (chip === 'esp32') return 'ESP32';
  return 'ESP32-' + chip.slice(5).toUpperCase();
}

export function isChipName(value: string): value is ChipName {
  return (CHIP_NAMES as readonly string[]).includes(value);
}

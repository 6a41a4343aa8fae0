import { createHash } from 'node:crypto';
import type { Check, Esp32AppImage } from './analysis.js';
import { APP_DESC_MAGIC, APP_DESC_OFFSET, readAppDescriptor } from './app-descriptor.js';
import { ByteReader, hex, toHex } from './byte-reader.js';
import { chipDisplayName, chipFromId, isKnownChipId, retiredBetaChip } from './chips.js';
import { readCommonHeader } from './common-header.js';
import { ImageFormatError } from './format-error.js';
import { describeTail, describeTailCheck } from './image-tail.js';
import { checksumOffset, walkSegments } from './segments.js';
import { describeSignature } from './signature/describe-signature.js';

const EXTENDED_HEADER_END = 24;
const WP_PIN_DISABLED = 0xee;
/** `esp_bootloader_desc_t.magic_byte` (ESP-IDF ≥ 5.3 bootloaders carry it where apps carry `esp_app_desc_t`). */
const BOOTLOADER_DESC_MAGIC = 0x50;

/**
 * esptool's rule for telling an ESP32-family header from an ESP8266 one (protocol.md §4.6 step 2), tightened with
 * the fields esptool and ESP-IDF always write: `wp_pin` 0xEE and zero reserved bytes.
 */
export function looksLikeEsp32Header(reader: ByteReader, offset = 0): boolean {
  if (!reader.has(offset, EXTENDED_HEADER_END)) return false;
  const hashAppended = reader.u8(offset + 23);
  const reservedZero = reader.u32(offset + 19) === 0;
  return (
    (hashAppended === 0 || hashAppended === 1) &&
    isKnownChipId(reader.u16(offset + 12)) &&
    reader.u8(offset + 8) === WP_PIN_DISABLED &&
    reservedZero
  );
}

/** Parses and verifies an ESP32-family application image that starts at offset 0 of `bytes`. */
export function parseEsp32App(bytes: Uint8Array): Esp32AppImage {
  const reader = new ByteReader(bytes);
  const chipId = reader.u16(12);
  const chip = chipFromId(chipId);
  if (!chip) {
    const beta = retiredBetaChip(chipId);
    throw new ImageFormatError(
      'unsupported',
      beta
        ? `the image is built for ${beta} (chip id ${chipId}), pre-release silicon no production board uses`
        : `unknown chip id ${chipId} at 0xC`,
      12,
    );
  }
  const header = readCommonHeader(reader, 0, chip);
  const minRevFull = reader.u16(15);
  const maxRevFull = reader.u16(17);
  const hashAppended = reader.u8(23) === 1;

  if (reader.u32(APP_DESC_OFFSET, 'app descriptor') !== APP_DESC_MAGIC) {
    const what =
      reader.has(0x20, 1) && reader.u8(0x20) === BOOTLOADER_DESC_MAGIC
        ? `an ${chipDisplayName(chip)} second-stage bootloader (it carries a bootloader descriptor at 0x20)`
        : `an ${chipDisplayName(chip)} image without an application descriptor at 0x20: a bootloader or another non-app image`;
    throw new ImageFormatError(
      'bootloader',
      `this is ${what}, not an application; devices cannot install it over the air`,
      0x20,
    );
  }

  const walk = walkSegments(reader, 0, EXTENDED_HEADER_END, header.segmentCount, { requireWordAligned: true });
  const checks: Check[] = [
    { name: 'header', ok: true, detail: `magic 0xE9, ${chipDisplayName(chip)} (chip id ${chipId})` },
    { name: 'segments', ok: true, detail: `${walk.segments.length} segments, all within the file` },
  ];

  const ckOffset = checksumOffset(walk.end);
  const storedChecksum = reader.u8(ckOffset, 'checksum byte');
  if (storedChecksum !== walk.computedChecksum) {
    throw new ImageFormatError(
      'corrupt',
      `checksum mismatch at ${hex(ckOffset)}: the image says ${hex(storedChecksum, 2)}, the segments add up to ${hex(walk.computedChecksum, 2)}`,
      ckOffset,
    );
  }
  checks.push({ name: 'checksum', ok: true, detail: `${hex(storedChecksum, 2)} at ${hex(ckOffset)}` });

  let imageLength = ckOffset + 1;
  let appendedDigest: string | undefined;
  if (hashAppended) {
    const stored = toHex(reader.slice(imageLength, 32, 'appended SHA-256'));
    const computed = createHash('sha256').update(bytes.subarray(0, imageLength)).digest('hex');
    if (stored !== computed) {
      throw new ImageFormatError(
        'corrupt',
        `appended SHA-256 at ${hex(imageLength)} does not match the image: the file is damaged`,
        imageLength,
      );
    }
    appendedDigest = computed.toUpperCase();
    checks.push({ name: 'sha256', ok: true, detail: `appended digest at ${hex(imageLength)} matches` });
    imageLength += 32;
  }

  const signature = describeSignature(bytes, {
    family: 'esp32',
    imageEnd: imageLength,
    gzip: false,
    prependedSignature: false,
  });
  const tail = describeTail(bytes, imageLength, () => signature.signed);
  checks.push({ name: 'length', ok: true, detail: describeTailCheck(tail, imageLength) });

  return {
    kind: 'app',
    family: 'esp32',
    chip,
    chipId,
    size: bytes.length,
    imageLength,
    flash: header.flash,
    entryAddress: header.entryAddress,
    segments: walk.segments,
    checks,
    tail,
    signature,
    minChipRevision: formatRevision(minRevFull),
    maxChipRevision: formatRevision(maxRevFull),
    hashAppended,
    appendedDigest,
    descriptor: readAppDescriptor(reader),
  };
}

function formatRevision(full: number): string {
  // Images built before the field existed carry 0xFFFF: no upper limit.
  if (full === 0xffff) return 'any';
  return `${Math.floor(full / 100)}.${full % 100}`;
}

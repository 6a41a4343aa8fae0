import type { AppImage, Check, ImageAnalysis, RejectedFile } from './analysis.js';
import { ByteReader, hex } from './byte-reader.js';
import { chipDisplayName } from './chips.js';
import { ESP8266_V2_MAGIC, IMAGE_MAGIC } from './common-header.js';
import { looksLikeEsp32Header, parseEsp32App } from './esp32-image.js';
import { parseEsp8266App } from './esp8266-image.js';
import { detectFilesystem } from './filesystem.js';
import { ImageFormatError, type RejectionCode } from './format-error.js';
import { inflateFirstMember } from './gzip-member.js';
import { appPartitions, PARTITION_TABLE_OFFSET, readPartitionTable, startsPartitionTable } from './partition-table.js';
import { describeSignature } from './signature/describe-signature.js';
import { ESP32FOTA_SIGNATURE_LENGTH } from './signature/esp32fota-layout.js';
import { readEsp8266Trailer } from './signature/esp8266-trailer.js';
import { isGitLfsPointer, looksLikeHtml, looksLikeText } from './text-content.js';

/** eboot inflates into the OTA area; nothing an ESP8266 can hold comes near this, and it bounds a gzip bomb. */
const MAX_INFLATED_SIZE = 16 * 1024 * 1024;
/** Classic ESP32 and ESP32-S2 put the bootloader at flash 0x1000; a dump from 0 starts with 4 KiB of 0xFF. */
const LEGACY_BOOTLOADER_OFFSET = 0x1000;

/**
 * Says what an uploaded file is: an application image (ESP32 family or ESP8266), a filesystem image, or a rejection
 * with a reason a person understands. Pure: bytes in, a result out; it never throws for any input.
 */
export function analyzeImage(bytes: Uint8Array): ImageAnalysis {
  const analysis = classifyOrReject(bytes);
  if (analysis.kind !== 'rejected') return analysis;
  return detectEsp32FotaSigned(bytes) ?? analysis;
}

function classifyOrReject(bytes: Uint8Array): ImageAnalysis {
  try {
    return classify(bytes);
  } catch (error) {
    if (error instanceof ImageFormatError) return rejected(bytes, error.code, error.message, error.offset);
    throw error;
  }
}

/**
 * esp32FOTA with signature checks downloads `signature ‖ image` (protocol.md §7.4), so the file starts with 512
 * bytes of signature, which may even begin with 0xE9 by chance. Such a file is told apart from junk by the image
 * (or filesystem) that starts right after them. Only esp32FOTA clients can install it, so it stays a rejection,
 * with what is inside and the signature described.
 */
function detectEsp32FotaSigned(bytes: Uint8Array): RejectedFile | undefined {
  const start = ESP32FOTA_SIGNATURE_LENGTH;
  if (bytes.length <= start) return undefined;
  const head = bytes.subarray(0, start);
  if (head.every((b) => b === head[0])) return undefined;
  const rest = bytes.subarray(start);
  // Classifying the rest skips this check, so nesting cannot recurse.
  const inner = rest[0] === IMAGE_MAGIC ? classifyOrReject(rest) : detectFilesystem(new ByteReader(rest));
  const app = inner?.kind === 'app' && inner.family === 'esp32' ? inner : undefined;
  const filesystem = inner?.kind === 'filesystem' ? inner : undefined;
  if (!app && !filesystem) return undefined;
  const what = app ? `an ${describeApp(app)} application` : `a ${filesystem!.fsType} image`;
  const result = rejected(
    bytes,
    'signed-esp32fota',
    `this is an esp32FOTA-signed file: a 512-byte signature, then ${what}; only esp32FOTA clients that check signatures install it`,
    start,
  );
  const signature = describeSignature(bytes, {
    family: 'esp32',
    imageEnd: start,
    gzip: false,
    prependedSignature: true,
  });
  return { ...result, embeddedApp: app ? { offset: start, image: app } : undefined, signature };
}

function classify(bytes: Uint8Array): ImageAnalysis {
  const reader = new ByteReader(bytes);
  if (bytes.length === 0) return rejected(bytes, 'empty', 'the file is empty (0 bytes): there is no firmware in it');
  if (isGitLfsPointer(bytes)) {
    return rejected(
      bytes,
      'git-lfs-pointer',
      'this is a Git LFS pointer file, not the firmware: fetch the real file with `git lfs pull` and upload that',
    );
  }
  const first = bytes[0]!;
  if (first === 0x1f && bytes[1] === 0x8b) return analyzeGzip(bytes);
  if (bytes.every((b) => b === 0xff)) {
    return rejected(
      bytes,
      bytes.length === 0x2000 ? 'ota-data' : 'blank',
      bytes.length === 0x2000
        ? 'this is an ota_data_initial.bin (8 KiB of erased flash that marks the boot partition), not firmware'
        : 'the file is all 0xFF (erased flash): there is nothing in it to install',
    );
  }
  if (startsPartitionTable(reader, 0)) {
    const count = readPartitionTable(reader, 0).length;
    return rejected(bytes, 'partition-table', `this is a partition table (${count} entries), not an application`, 0);
  }
  const merged = detectMergedImage(reader);
  if (merged) return merged;
  if (
    first === 0xff &&
    reader.has(LEGACY_BOOTLOADER_OFFSET, 1) &&
    reader.u8(LEGACY_BOOTLOADER_OFFSET) === IMAGE_MAGIC
  ) {
    return rejected(
      bytes,
      'bootloader',
      `this is a flash dump holding a bootloader at ${hex(LEGACY_BOOTLOADER_OFFSET)}, not an application`,
      LEGACY_BOOTLOADER_OFFSET,
    );
  }
  const filesystem = detectFilesystem(reader);
  if (filesystem) return filesystem;
  if (first === ESP8266_V2_MAGIC) {
    return rejected(
      bytes,
      'esp8266-v2',
      'this is an ESP8266 NONOS SDK "v2" image (magic 0xEA, user1/user2.bin): the Arduino OTA clients only install 0xE9 images',
      0,
    );
  }
  if (first === IMAGE_MAGIC) return looksLikeEsp32Header(reader) ? parseEsp32App(bytes) : analyzeEsp8266(bytes);
  if (looksLikeText(bytes)) {
    return rejected(
      bytes,
      'text',
      looksLikeHtml(bytes)
        ? 'this is an HTML page, not firmware (a download that saved an error or login page?)'
        : 'this is a text file, not firmware',
    );
  }
  return rejected(
    bytes,
    'not-firmware',
    `not an ESP firmware image: it starts with ${hex(first, 2)}, not 0xE9, and is no known filesystem image`,
    0,
  );
}

function analyzeEsp8266(bytes: Uint8Array): AppImage {
  return { ...parseEsp8266App(bytes), compression: undefined, inflatedSize: undefined };
}

/**
 * ESP8266 Arduino ≥ 2.7 installs `gzip(.bin)`: eboot inflates the first gzip member, once, and boots what comes out.
 * So that is what is analysed; anything it would not boot is refused here. ESP32 clients have no such support.
 */
function analyzeGzip(bytes: Uint8Array): ImageAnalysis {
  const { inflated, memberLength } = inflateFirstMember(bytes, MAX_INFLATED_SIZE);
  // A signed upload carries the ESP8266 signature trailer after the gzip data; anything else after the first member
  // is a second member or junk that the bootloader would never see.
  const signedPayload = readEsp8266Trailer(bytes)?.payload.length;
  if (memberLength < bytes.length && memberLength !== signedPayload) {
    return rejected(
      bytes,
      'unsupported',
      `the gzip file goes on after its first member (${bytes.length - memberLength} more bytes): the ESP8266 bootloader inflates only the first, so compress the image as one gzip stream`,
      memberLength,
    );
  }
  if (inflated[0] === 0x1f && inflated[1] === 0x8b) {
    return rejected(
      bytes,
      'nested-gzip',
      'this is a gzip file inside a gzip file: the ESP8266 bootloader inflates only once, so the board would get a compressed image it cannot boot; compress the .bin once',
    );
  }
  const inner = analyzeImage(inflated);
  if (inner.kind === 'rejected') {
    return { ...inner, size: bytes.length, reason: `inside the gzip file: ${inner.reason}` };
  }
  if (inner.kind !== 'app' || inner.family !== 'esp8266') {
    const what = inner.kind === 'app' ? `an ${chipDisplayName(inner.chip)} application` : `a ${inner.fsType} image`;
    return rejected(bytes, 'unsupported', `the gzip file holds ${what}; only ESP8266 sketches may be gzip-compressed`);
  }
  const checks: Check[] = [{ name: 'gzip', ok: true, detail: `inflates to ${inflated.length} bytes` }, ...inner.checks];
  // A signature of a gzip upload covers the `.gz` bytes; the key a sketch embeds sits in the inflated image.
  const signature = describeSignature(bytes, {
    family: 'esp8266',
    imageEnd: 0,
    gzip: true,
    prependedSignature: false,
    content: inflated,
  });
  return { ...inner, size: bytes.length, compression: 'gzip', inflatedSize: inflated.length, checks, signature };
}

/** Bootloader (at 0 or 0x1000) + partition table at 0x8000 + app: what `esptool merge_bin` and PlatformIO write. */
function detectMergedImage(reader: ByteReader): RejectedFile | undefined {
  const bootloaderAt = [0, LEGACY_BOOTLOADER_OFFSET].find((at) => reader.has(at, 1) && reader.u8(at) === IMAGE_MAGIC);
  if (bootloaderAt === undefined || !startsPartitionTable(reader, PARTITION_TABLE_OFFSET)) return undefined;
  const app = appPartitions(readPartitionTable(reader, PARTITION_TABLE_OFFSET)).find(
    (partition) => reader.has(partition.offset, 1) && reader.u8(partition.offset) === IMAGE_MAGIC,
  );
  const bytes = reader.bytes;
  const layout = `bootloader at ${hex(bootloaderAt)}, partition table at ${hex(PARTITION_TABLE_OFFSET)}`;
  if (!app) {
    return rejected(
      bytes,
      'bootloader',
      `this is a flash dump with a bootloader (${layout}) and no application in it`,
      bootloaderAt,
    );
  }
  const embedded = analyzeImage(bytes.subarray(app.offset));
  const inner = embedded.kind === 'app' ? embedded : undefined;
  const what = inner ? ` (${describeApp(inner)})` : '';
  const result = rejected(
    bytes,
    'merged-image',
    `this is a merged factory image (${layout}): the app starts at ${hex(app.offset)}${what}; upload the application image alone (often named firmware.ota.bin or <project>.bin)`,
    app.offset,
  );
  return { ...result, embeddedApp: inner ? { offset: app.offset, image: inner } : undefined };
}

function describeApp(app: AppImage): string {
  const chip = chipDisplayName(app.chip);
  return app.family === 'esp32' ? `${chip} ${app.descriptor.projectName} ${app.descriptor.version}` : chip;
}

function rejected(bytes: Uint8Array, code: RejectionCode, reason: string, offset?: number): RejectedFile {
  const check: Check = { name: code, ok: false, detail: reason };
  return {
    kind: 'rejected',
    code,
    reason,
    offset,
    size: bytes.length,
    checks: [check],
    embeddedApp: undefined,
    signature: undefined,
  };
}

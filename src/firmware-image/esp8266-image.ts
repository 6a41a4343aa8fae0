import type { Check, Esp8266AppImage } from './analysis.js';
import { ByteReader, hex } from './byte-reader.js';
import { readCommonHeader, type CommonHeader } from './common-header.js';
import { crc32Msb } from './crc32-msb.js';
import { ImageFormatError } from './format-error.js';
import { describeTail, describeTailCheck } from './image-tail.js';
import { checksumOffset, walkSegments, type Segment } from './segments.js';
import { describeSignature } from './signature/describe-signature.js';
import { readEsp8266Trailer } from './signature/esp8266-trailer.js';

/** The Arduino ESP8266 `.bin`: eboot at 0, the sketch at 0x1000 (`APP_START_OFFSET`, protocol.md §4.5). */
export const SKETCH_OFFSET = 0x1000;
const CRC_WORDS = { from: 0x1010, to: 0x1018 };
/** Code executed in place from flash (`.irom0.text`) is mapped here; a bootloader has none. */
const IROM_START = 0x40200000;
const IROM_END = 0x40300000;

interface V1Image {
  header: CommonHeader;
  segments: Segment[];
  /** File offset just past the checksum byte (16-byte aligned). */
  end: number;
  checksumAt: number;
}

function parseV1Image(
  reader: ByteReader,
  offset: number,
  label: string,
  zeroed?: { from: number; to: number },
): V1Image {
  const header = readCommonHeader(reader, offset, 'esp8266');
  if (header.magic !== 0xe9) {
    throw new ImageFormatError('corrupt', `the ${label} at ${hex(offset)} does not start with 0xE9`, offset);
  }
  const walk = walkSegments(reader, offset, offset + 8, header.segmentCount, { zeroed });
  const checksumAt = checksumOffset(walk.end);
  const stored = reader.u8(checksumAt, `${label} checksum byte`);
  if (stored !== walk.computedChecksum) {
    throw new ImageFormatError(
      'corrupt',
      `${label} checksum mismatch at ${hex(checksumAt)}: the image says ${hex(stored, 2)}, the segments add up to ${hex(walk.computedChecksum, 2)}`,
      checksumAt,
    );
  }
  return { header, segments: walk.segments, end: checksumAt + 1, checksumAt };
}

function hasFlashMappedCode(image: V1Image): boolean {
  return image.segments.some((s) => s.loadAddress >= IROM_START && s.loadAddress < IROM_END);
}

/** Parses an uncompressed ESP8266 v1 (`0xE9`) application image. */
export function parseEsp8266App(bytes: Uint8Array): Omit<Esp8266AppImage, 'compression' | 'inflatedSize'> {
  const reader = new ByteReader(bytes);
  const first = parseV1Image(reader, 0, 'image');
  const checks: Check[] = [
    { name: 'header', ok: true, detail: `magic 0xE9, ESP8266, ${first.segments.length} segments` },
    { name: 'checksum', ok: true, detail: `image at 0x0: checksum OK at ${hex(first.checksumAt)}` },
  ];
  const arduinoLayout = first.end <= SKETCH_OFFSET && bytes.length > SKETCH_OFFSET && bytes[SKETCH_OFFSET] === 0xe9;

  if (!arduinoLayout) {
    if (!hasFlashMappedCode(first)) {
      throw new ImageFormatError(
        'bootloader',
        `this is an ESP8266 bootloader (or another RAM-only image): it has no flash-mapped code and no sketch at ${hex(SKETCH_OFFSET)}`,
        0,
      );
    }
    return build(bytes, first, first, 'plain', 0, undefined, checks);
  }

  // Arduino core ≥ 2.7 stores the file length at 0x1010 and a CRC at 0x1014 after the checksum was computed, so the
  // checksum only holds with those words zeroed; older cores leave the words as part of the code. A signed sketch
  // has the signature appended after that: its words describe the signed payload, not the whole file.
  const storedLength = reader.u32(CRC_WORDS.from);
  const hasCrcWords = storedLength === bytes.length || storedLength === readEsp8266Trailer(bytes)?.payload.length;
  const sketch = parseV1Image(reader, SKETCH_OFFSET, 'sketch image', hasCrcWords ? CRC_WORDS : undefined);
  checks.push({
    name: 'checksum',
    ok: true,
    detail: `sketch at ${hex(SKETCH_OFFSET)}: checksum OK at ${hex(sketch.checksumAt)}${hasCrcWords ? ' (CRC words zeroed)' : ''}`,
  });
  let crc: Esp8266AppImage['crc'];
  if (hasCrcWords) {
    const stored = reader.u32(CRC_WORDS.from + 4);
    const computed = crc32Msb(bytes.subarray(0, storedLength), CRC_WORDS.from, CRC_WORDS.to);
    if (stored !== computed) {
      throw new ImageFormatError(
        'corrupt',
        `CRC-32 mismatch: ${hex(CRC_WORDS.from + 4)} says ${hex(stored, 8)}, the file gives ${hex(computed, 8)}`,
        CRC_WORDS.from + 4,
      );
    }
    crc = { stored, computed };
    checks.push({ name: 'crc32', ok: true, detail: `${hex(stored, 8)} over ${storedLength} bytes` });
  }
  return build(bytes, first, sketch, 'arduino', SKETCH_OFFSET, crc, checks);
}

function build(
  bytes: Uint8Array,
  first: V1Image,
  sketch: V1Image,
  layout: Esp8266AppImage['layout'],
  sketchOffset: number,
  crc: Esp8266AppImage['crc'],
  checks: Check[],
): Omit<Esp8266AppImage, 'compression' | 'inflatedSize'> {
  const imageLength = sketch.end;
  const signature = describeSignature(bytes, {
    family: 'esp8266',
    imageEnd: imageLength,
    gzip: false,
    prependedSignature: false,
  });
  const tail = describeTail(bytes, imageLength, () => signature.signed);
  checks.push({ name: 'length', ok: true, detail: describeTailCheck(tail, imageLength) });
  return {
    kind: 'app',
    family: 'esp8266',
    chip: 'esp8266',
    layout,
    size: bytes.length,
    imageLength,
    // The header at offset 0 is what the device's −107 check and the bootloader read.
    flash: first.header.flash,
    entryAddress: sketch.header.entryAddress,
    segments: sketch.segments,
    sketchOffset,
    crc,
    checks,
    tail,
    signature,
  };
}

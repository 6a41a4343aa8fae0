import type { ByteReader } from './byte-reader.js';
import { hex } from './byte-reader.js';
import { ImageFormatError } from './format-error.js';

export interface Segment {
  index: number;
  /** File offset of the segment's 8-byte header. */
  offset: number;
  loadAddress: number;
  length: number;
}

export interface SegmentWalk {
  segments: Segment[];
  /** File offset just past the last segment's data. */
  end: number;
  /** XOR of every data byte, seeded 0xEF (protocol.md §4.3). */
  computedChecksum: number;
}

export const MAX_SEGMENTS = 16;
const MAX_SEGMENT_LENGTH = 16 * 1024 * 1024;
const CHECKSUM_SEED = 0xef;

export interface WalkOptions {
  /** Bytes treated as zero while checksumming (the ESP8266 CRC words at 0x1010–0x1017). */
  zeroed?: { from: number; to: number };
  /** ESP-IDF refuses segment lengths that are not a multiple of 4. */
  requireWordAligned?: boolean;
}

/**
 * Walks the `count` segments that start at `offset` for the image whose header is at `headerOffset`,
 * bounds-checking each against the file.
 */
export function walkSegments(
  reader: ByteReader,
  headerOffset: number,
  offset: number,
  count: number,
  options: WalkOptions = {},
): SegmentWalk {
  if (count === 0) {
    throw new ImageFormatError(
      'corrupt',
      `the image header at ${hex(headerOffset)} declares no segments`,
      headerOffset + 1,
    );
  }
  if (count > MAX_SEGMENTS) {
    throw new ImageFormatError(
      'corrupt',
      `the image header at ${hex(headerOffset)} declares ${count} segments; at most ${MAX_SEGMENTS} are allowed`,
      headerOffset + 1,
    );
  }
  const segments: Segment[] = [];
  let checksum = CHECKSUM_SEED;
  let position = offset;
  for (let index = 0; index < count; index++) {
    const loadAddress = reader.u32(position, `header of segment ${index}`);
    const length = reader.u32(position + 4, `header of segment ${index}`);
    if (length > MAX_SEGMENT_LENGTH) {
      throw new ImageFormatError(
        'corrupt',
        `segment ${index} at ${hex(position)} claims ${length} bytes, more than the 16 MiB a segment may hold`,
        position,
      );
    }
    if (options.requireWordAligned && length % 4 !== 0) {
      throw new ImageFormatError(
        'corrupt',
        `segment ${index} at ${hex(position)} has length ${length}, not a multiple of 4`,
        position,
      );
    }
    const dataStart = position + 8;
    if (!reader.has(dataStart, length)) {
      throw new ImageFormatError(
        'truncated',
        `segment ${index} at ${hex(position)} needs ${length} bytes but the file ends at ${hex(reader.length)}`,
        position,
      );
    }
    checksum = xorRange(reader.bytes, dataStart, dataStart + length, checksum, options.zeroed);
    segments.push({ index, offset: position, loadAddress, length });
    position = dataStart + length;
  }
  return { segments, end: position, computedChecksum: checksum };
}

function xorRange(
  bytes: Uint8Array,
  start: number,
  end: number,
  seed: number,
  zeroed: { from: number; to: number } | undefined,
): number {
  let x = seed ^ xorBytes(bytes, start, end);
  if (zeroed) {
    // XOR is its own inverse: removing the bytes that must count as zero undoes their contribution.
    const from = Math.max(start, zeroed.from);
    const to = Math.min(end, zeroed.to);
    if (from < to) x ^= xorBytes(bytes, from, to);
  }
  return x;
}

/** XOR of bytes[start, end), a 32-bit word at a time over the aligned middle (this runs over every upload). */
function xorBytes(bytes: Uint8Array, start: number, end: number): number {
  let x = 0;
  let i = start;
  while (i < end && (bytes.byteOffset + i) % 4 !== 0) x ^= bytes[i++]!;
  const words = Math.floor((end - i) / 4);
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    let w = 0;
    for (let k = 0; k < words; k++) w ^= view[k]!;
    x ^= (w ^ (w >>> 8) ^ (w >>> 16) ^ (w >>> 24)) & 0xff;
    i += words * 4;
  }
  while (i < end) x ^= bytes[i++]!;
  return x;
}

/** The checksum byte ends the 16-byte block after the segments: `((end + 1 + 15) & ~15) - 1`. */
export function checksumOffset(segmentsEnd: number): number {
  return ((segmentsEnd + 16) & ~15) - 1;
}

export function describeSegment(segment: Segment): string {
  return `#${segment.index} ${hex(segment.loadAddress, 8)} ${segment.length} B`;
}

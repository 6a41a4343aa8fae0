/**
 * Builds small, valid firmware images for edge-case tests, following protocol.md §4 (esptool's and elf2bin's
 * layouts). Tests derive broken variants from these in code; no hand-edited binaries are checked in.
 */
import { createHash } from 'node:crypto';
import { crc32Msb } from '../../src/firmware-image/crc32-msb.js';

export interface SegmentSpec {
  loadAddress: number;
  data: Uint8Array;
}

export interface DescriptorSpec {
  version?: string;
  projectName?: string;
  idfVersion?: string;
  date?: string;
  time?: string;
  secureVersion?: number;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

function fixed(text: string, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.write(text.slice(0, size - 1), 'utf8');
  return b;
}

export function appDescriptor(spec: DescriptorSpec = {}): Buffer {
  return Buffer.concat([
    u32(0xabcd5432),
    u32(spec.secureVersion ?? 0),
    Buffer.alloc(8),
    fixed(spec.version ?? '1.0.0', 32),
    fixed(spec.projectName ?? 'synthetic', 32),
    fixed(spec.time ?? '12:00:00', 16),
    fixed(spec.date ?? 'Jan  1 2026', 16),
    fixed(spec.idfVersion ?? 'v5.4.1', 32),
    Buffer.alloc(32, 0x5a),
    Buffer.alloc(256 - 176),
  ]);
}

/** Text or bytes padded with zeros to a multiple of 4, as esptool pads segments. */
export function wordAligned(content: string | Uint8Array): Buffer {
  const data = typeof content === 'string' ? Buffer.from(content, 'latin1') : Buffer.from(content);
  return Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
}

function segmentsWithChecksum(segments: SegmentSpec[], zeroedFrom = -1, zeroedTo = -1, base = 0): Buffer[] {
  const parts: Buffer[] = [];
  let checksum = 0xef;
  let position = base;
  for (const segment of segments) {
    parts.push(Buffer.concat([u32(segment.loadAddress), u32(segment.data.length)]));
    position += 8;
    segment.data.forEach((byte, i) => {
      const at = position + i;
      if (at < zeroedFrom || at >= zeroedTo) checksum ^= byte;
    });
    parts.push(Buffer.from(segment.data));
    position += segment.data.length;
  }
  const checksumAt = ((position + 16) & ~15) - 1;
  parts.push(Buffer.alloc(checksumAt - position), Buffer.from([checksum]));
  return parts;
}

export interface Esp32AppSpec {
  chipId?: number;
  descriptor?: DescriptorSpec;
  /** Segments after the first (which holds the app descriptor). */
  extraSegments?: SegmentSpec[];
  /** Extra readable text placed after the descriptor in the first segment. */
  rodata?: string;
  hashAppended?: boolean;
  tail?: Uint8Array;
}

export function buildEsp32App(spec: Esp32AppSpec = {}): Buffer {
  const first = {
    loadAddress: 0x3f400020,
    data: wordAligned(Buffer.concat([appDescriptor(spec.descriptor), Buffer.from(spec.rodata ?? '', 'latin1')])),
  };
  const segments = [first, ...(spec.extraSegments ?? [{ loadAddress: 0x40080000, data: wordAligned('code') }])];
  const hashAppended = spec.hashAppended ?? true;
  const header = Buffer.concat([
    Buffer.from([0xe9, segments.length, 0x02, 0x20]),
    u32(0x40080100),
    Buffer.from([0xee, 0, 0, 0]),
    Buffer.from([(spec.chipId ?? 0) & 0xff, (spec.chipId ?? 0) >> 8]),
    Buffer.from([0]),
    Buffer.from([0, 0]), // min_chip_rev_full
    Buffer.from([399 & 0xff, 399 >> 8]), // max_chip_rev_full
    Buffer.alloc(4),
    Buffer.from([hashAppended ? 1 : 0]),
  ]);
  const body = Buffer.concat([header, ...segmentsWithChecksum(segments, -1, -1, 24)]);
  const digest = hashAppended ? createHash('sha256').update(body).digest() : Buffer.alloc(0);
  return Buffer.concat([body, digest, Buffer.from(spec.tail ?? [])]);
}

export interface Esp8266AppSpec {
  /** Readable text compiled into the sketch (`.irom0.text` / `.rodata`). */
  strings?: string[];
  crcWords?: boolean;
  /** Flash-size nibble in the header at offset 0 (4 = 4 MB). */
  flashSizeCode?: number;
}

const EBOOT = [{ loadAddress: 0x4010f000, data: wordAligned(Buffer.alloc(256, 0x11)) }];

/** The Arduino ESP8266 layout: eboot at 0, padded with 0xAA to 0x1000, then the sketch (protocol.md §4.5). */
export function buildEsp8266App(spec: Esp8266AppSpec = {}): Buffer {
  const crcWords = spec.crcWords ?? true;
  const text = '\0' + (spec.strings ?? ['sketch']).join('\0') + '\0';
  const irom = wordAligned(Buffer.concat([Buffer.alloc(8), Buffer.from(text, 'latin1')]));
  const sketchSegments = [
    { loadAddress: 0x40201010, data: irom },
    { loadAddress: 0x40100000, data: wordAligned(Buffer.alloc(64, 0x22)) },
    { loadAddress: 0x3ffe8000, data: wordAligned(Buffer.alloc(32, 0x33)) },
  ];
  const sizeFreq = ((spec.flashSizeCode ?? 4) << 4) | 0;
  const ebootImage = Buffer.concat([
    Buffer.from([0xe9, 1, 0x03, sizeFreq]),
    u32(0x4010f000),
    ...segmentsWithChecksum(EBOOT, -1, -1, 8),
  ]);
  const padding = Buffer.alloc(0x1000 - ebootImage.length, 0xaa);
  const sketchHeader = Buffer.concat([Buffer.from([0xe9, sketchSegments.length, 0x03, sizeFreq]), u32(0x40100004)]);
  const file = Buffer.concat([
    ebootImage,
    padding,
    sketchHeader,
    ...segmentsWithChecksum(sketchSegments, crcWords ? 0x1010 : -1, crcWords ? 0x1018 : -1, 0x1008),
  ]);
  if (crcWords) {
    file.writeUInt32LE(file.length, 0x1010);
    file.writeUInt32LE(crc32Msb(file, 0x1010, 0x1018), 0x1014);
  }
  return file;
}

/** A RAM-only ESP8266 v1 image: what a second-stage bootloader looks like. */
export function buildEsp8266RamOnlyImage(): Buffer {
  return Buffer.concat([
    Buffer.from([0xe9, 1, 0x00, 0x00]),
    u32(0x4010f000),
    ...segmentsWithChecksum(EBOOT, -1, -1, 8),
  ]);
}

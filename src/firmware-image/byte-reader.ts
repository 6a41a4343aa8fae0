import { ImageFormatError } from './format-error.js';

/** Bounds-checked little-endian reads: a read past the end is a typed "truncated" error, never garbage. */
export class ByteReader {
  constructor(readonly bytes: Uint8Array) {}

  get length(): number {
    return this.bytes.length;
  }

  has(offset: number, size: number): boolean {
    return offset >= 0 && size >= 0 && offset + size <= this.bytes.length;
  }

  private need(offset: number, size: number, what: string): void {
    if (!this.has(offset, size)) {
      throw new ImageFormatError(
        'truncated',
        `the file ends at ${hex(this.bytes.length)} but the ${what} needs ${size} bytes at ${hex(offset)}`,
        offset,
      );
    }
  }

  u8(offset: number, what = 'header'): number {
    this.need(offset, 1, what);
    return this.bytes[offset]!;
  }

  u16(offset: number, what = 'header'): number {
    this.need(offset, 2, what);
    return this.bytes[offset]! | (this.bytes[offset + 1]! << 8);
  }

  u32(offset: number, what = 'header'): number {
    this.need(offset, 4, what);
    const b = this.bytes;
    return (b[offset]! | (b[offset + 1]! << 8) | (b[offset + 2]! << 16) | (b[offset + 3]! << 24)) >>> 0;
  }

  slice(offset: number, size: number, what = 'data'): Uint8Array {
    this.need(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }

  /** A NUL-terminated string in a fixed-size field (e.g. `esp_app_desc_t.version`). */
  cString(offset: number, size: number, what = 'string field'): string {
    const field = this.slice(offset, size, what);
    const end = field.indexOf(0);
    return Buffer.from(field.buffer, field.byteOffset, end === -1 ? size : end).toString('utf8');
  }
}

export function hex(value: number, width = 0): string {
  return '0x' + value.toString(16).toUpperCase().padStart(width, '0');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

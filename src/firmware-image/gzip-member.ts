import { crc32, inflateRawSync } from 'node:zlib';
import { ImageFormatError } from './format-error.js';

/** RFC 1952 header flags. */
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FIXED_HEADER = 10;
const TRAILER = 8; // CRC-32 and ISIZE

export interface GzipMember {
  inflated: Buffer;
  /** Bytes of the file the first member takes, header and trailer included. */
  memberLength: number;
}

/**
 * Inflates the first gzip member only, as the ESP8266 bootloader (eboot, uzlib) does. Node's gunzip would go on
 * into a second member and join the two, which is not what the board installs. Throws `ImageFormatError` for a
 * damaged header, stream or trailer (CRC-32 and length, as gunzip checks them), or when the data inflates to more
 * than `maxOutputLength`.
 */
export function inflateFirstMember(bytes: Uint8Array, maxOutputLength: number): GzipMember {
  const start = deflateStart(bytes);
  let inflated: Buffer;
  let consumed: number;
  try {
    const result = inflateRawSync(bytes.subarray(start), { info: true, maxOutputLength }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    inflated = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (error) {
    const tooLarge = error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new ImageFormatError(
      'corrupt',
      tooLarge
        ? `the gzip data inflates to more than ${maxOutputLength / 1024 / 1024} MiB: no ESP8266 image is that large`
        : 'the gzip data is damaged',
    );
  }
  const memberLength = start + consumed + TRAILER;
  if (memberLength > bytes.length) throw new ImageFormatError('corrupt', 'the gzip data is damaged (it ends early)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    view.getUint32(memberLength - TRAILER, true) !== crc32(inflated) ||
    view.getUint32(memberLength - 4, true) !== inflated.length % 2 ** 32
  ) {
    throw new ImageFormatError('corrupt', 'the gzip data is damaged (its checksum does not match)');
  }
  return { inflated, memberLength };
}

/** Where the deflate stream starts, after the header and its optional fields. */
function deflateStart(bytes: Uint8Array): number {
  const damaged = () => new ImageFormatError('corrupt', 'the gzip header is damaged');
  if (bytes.length < FIXED_HEADER + TRAILER || bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8)
    throw damaged();
  const flags = bytes[3]!;
  let at = FIXED_HEADER;
  if (flags & FEXTRA) {
    if (at + 2 > bytes.length) throw damaged();
    at += 2 + (bytes[at]! | (bytes[at + 1]! << 8));
  }
  for (const field of [FNAME, FCOMMENT]) {
    if (!(flags & field)) continue;
    const end = bytes.indexOf(0, at);
    if (end < 0) throw damaged();
    at = end + 1;
  }
  if (flags & FHCRC) at += 2;
  if (at >= bytes.length) throw damaged();
  return at;
}

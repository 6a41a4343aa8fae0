import type { ImageTail } from './analysis.js';

/**
 * Describes the bytes after `image_len`. `isSignature` knows the family's signature layout; all 0xFF is padding
 * (esptool `--pad-to-size`); anything else is reported as unknown rather than guessed at.
 */
export function describeTail(
  bytes: Uint8Array,
  imageLength: number,
  isSignature: (tail: Uint8Array) => boolean,
): ImageTail | undefined {
  const length = bytes.length - imageLength;
  if (length <= 0) return undefined;
  const tail = bytes.subarray(imageLength);
  const kind = tail.every((b) => b === 0xff) ? 'padding' : isSignature(tail) ? 'signature' : 'unknown';
  return { offset: imageLength, length, kind };
}

export function describeTailCheck(tail: ImageTail | undefined, imageLength: number): string {
  const end = '0x' + imageLength.toString(16).toUpperCase();
  return tail
    ? `image ends at ${end}; ${tail.length} more bytes follow (${tail.kind})`
    : `image length equals file length (${imageLength} bytes)`;
}

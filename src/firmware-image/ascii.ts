/** Byte classification tables for scanning firmware for human-readable strings without decoding it. */
export const LOWER = new Uint8Array(256);
export const IS_ALNUM = new Uint8Array(256);
export const IS_PRINTABLE = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  LOWER[b] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
  IS_ALNUM[b] = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ? 1 : 0;
  IS_PRINTABLE[b] = (b >= 0x20 && b < 0x7f) || b === 0x09 ? 1 : 0;
}

export function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/** The printable run around [start, end), at most `limit` bytes each way: the string a match was found in. */
export function printableRun(bytes: Uint8Array, start: number, end: number, limit = 80): { from: number; to: number } {
  let from = start;
  while (from > 0 && start - from < limit && IS_PRINTABLE[bytes[from - 1]!]) from--;
  let to = end;
  while (to < bytes.length && to - end < limit && IS_PRINTABLE[bytes[to]!]) to++;
  return { from, to };
}

export function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
}

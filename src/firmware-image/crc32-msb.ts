/**
 * The CRC-32 the ESP8266 Arduino core writes at 0x1014: MSB-first, polynomial 0x04C11DB7, initial value 0xFFFFFFFF,
 * no reflection and no final XOR (esp8266/Arduino `tools/elf2bin.py`, `ESP.checkFlashCRC`). zlib's CRC-32 is the
 * reflected variant, so it cannot be used here.
 */
const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC over `bytes`, with [zeroFrom, zeroTo) read as zero bytes. */
export function crc32Msb(bytes: Uint8Array, zeroFrom = 0, zeroTo = 0): number {
  const from = Math.min(Math.max(zeroFrom, 0), bytes.length);
  const to = Math.min(Math.max(zeroTo, from), bytes.length);
  let crc = update(0xffffffff, bytes, 0, from);
  for (let i = from; i < to; i++) crc = (crc << 8) ^ TABLE[(crc >>> 24) & 0xff]!;
  crc = update(crc, bytes, to, bytes.length);
  return crc >>> 0;
}

function update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) crc = (crc << 8) ^ TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!;
  return crc;
}

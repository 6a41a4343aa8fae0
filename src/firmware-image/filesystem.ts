import type { FilesystemImage } from './analysis.js';
import type { ByteReader } from './byte-reader.js';

const LITTLEFS_MAGIC = Buffer.from('littlefs', 'latin1');
const SPIFFS_PAGE = 256;
const SPIFFS_FREE = 0xffff;
const SPIFFS_DELETED = 0x0000;

/** LittleFS keeps the string "littlefs" in its superblock, 8 bytes into block 0 (and its mirror, block 1). */
function isLittleFs(reader: ByteReader): boolean {
  return reader.has(8, 8) && Buffer.compare(Buffer.from(reader.slice(8, 8)), LITTLEFS_MAGIC) === 0;
}

/**
 * SPIFFS has no magic. Its first page is an object lookup table of u16 object ids, and the page an id points at
 * starts with the same id; mkspiffs (256-byte pages) always fills block 0 first. We require that correspondence for
 * the first entry, plus a size that is a whole number of 4 KiB sectors.
 */
function isSpiffs(reader: ByteReader): boolean {
  if (reader.length < 2 * 4096 || reader.length % 4096 !== 0) return false;
  const firstId = reader.u16(0);
  if (firstId === SPIFFS_FREE || firstId === SPIFFS_DELETED) return false;
  return reader.u16(SPIFFS_PAGE) === firstId;
}

/** A FAT boot sector: jump instruction, the 0x55AA signature at 510 and "FAT" in the file-system type field. */
function isFat(reader: ByteReader): boolean {
  if (!reader.has(0, 512)) return false;
  const jump = reader.u8(0);
  if ((jump !== 0xeb && jump !== 0xe9) || reader.u16(510) !== 0xaa55) return false;
  const fat16 = Buffer.from(reader.slice(54, 3)).toString('latin1');
  const fat32 = Buffer.from(reader.slice(82, 3)).toString('latin1');
  return fat16 === 'FAT' || fat32 === 'FAT';
}

export function detectFilesystem(reader: ByteReader): FilesystemImage | undefined {
  const fsType = isLittleFs(reader) ? 'littlefs' : isSpiffs(reader) ? 'spiffs' : isFat(reader) ? 'fatfs' : undefined;
  if (!fsType) return undefined;
  return {
    kind: 'filesystem',
    fsType,
    size: reader.length,
    checks: [{ name: 'filesystem', ok: true, detail: `${fsType} image, ${reader.length} bytes` }],
  };
}

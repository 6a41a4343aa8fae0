import { closeSync, openSync, writeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';

export interface TarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
  linkpath?: string;
  /** The entry's bytes; without them, `zeros` bytes of zeros. */
  data?: Buffer;
  zeros?: number;
}

const BLOCK = 512;
const ZERO_CHUNK = 16 * 1024 * 1024;

/**
 * Writes a .tar.gz byte by byte, so a test can make what `tar` would never write: links, devices, paths outside
 * the folder, and entries of a GiB that cost a few MB. A gzip file may hold several members, which gunzip joins;
 * so a large zero entry is one 16 MiB chunk of zeros compressed once (at level 1, about 230:1, as an ordinary
 * archive of zeros would be) and written as many members as needed.
 */
export function writeTarGz(file: string, entries: TarEntry[]): void {
  const fd = openSync(file, 'w');
  try {
    let zeroMember: Buffer | undefined;
    for (const entry of entries) {
      const size = entry.data?.length ?? entry.zeros ?? 0;
      const header = new tar.Header({
        path: entry.path,
        type: entry.type ?? 'File',
        linkpath: entry.linkpath,
        size: entry.type === undefined || entry.type === 'File' ? size : 0,
        mode: entry.type === 'Directory' ? 0o755 : 0o644,
        mtime: new Date(0),
      });
      header.encode();
      const padding = Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
      if (entry.data || !size) {
        writeSync(fd, gzipSync(Buffer.concat([header.block!, entry.data ?? Buffer.alloc(0), padding])));
        continue;
      }
      writeSync(fd, gzipSync(header.block!));
      zeroMember ??= gzipSync(Buffer.alloc(ZERO_CHUNK), { level: 1 });
      let left = size;
      for (; left >= ZERO_CHUNK; left -= ZERO_CHUNK) writeSync(fd, zeroMember);
      writeSync(fd, gzipSync(Buffer.alloc(left + padding.length), { level: 1 }));
    }
    writeSync(fd, gzipSync(Buffer.alloc(2 * BLOCK)));
  } finally {
    closeSync(fd);
  }
}

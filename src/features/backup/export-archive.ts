import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { CATALOGUE_FILE, FIRMWARE_DIR } from './export-format.js';
import { CATALOGUE_LIMIT, ImportError } from './export-reader.js';

export interface ArchiveLimits {
  /** Largest image file: the upload limit, since every image was an upload once. */
  imageBytes: number;
  /** All entries together, the ones skipped included (they are inflated too). */
  totalBytes: number;
}

/** More entries than any export holds; each costs a file, so they are bounded even when empty. */
const MAX_ENTRIES = 100_000;
const IMAGE_NAME = new RegExp(`^${FIRMWARE_DIR}/[0-9a-f]{64}\\.bin$`);
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const DIRECTORY_TYPES = new Set(['Directory', 'GNUDumpDir']);
const TYPE_NAMES: Record<string, string> = {
  SymbolicLink: 'a symbolic link',
  Link: 'a hard link',
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a FIFO (named pipe)',
};

/**
 * Unpacks an export archive (`.tar.gz`) into `dir`, one entry at a time, as a stream: each entry's header is judged
 * before any of its bytes are read, so a small archive that inflates to gigabytes is refused at once, and nothing
 * is ever held whole in memory. Only `catalogue.yaml` and `firmware/<sha256>.bin` are written; other names are
 * skipped. Links, devices, paths outside the folder, an entry over its limit and a total over the limit are
 * refused. The first problem ends the extraction with an `ImportError`; the caller removes `dir`.
 */
export async function extractExportArchive(file: string, dir: string, limits: ArchiveLimits): Promise<void> {
  await mkdir(join(dir, FIRMWARE_DIR), { recursive: true });
  const source = createReadStream(file);
  const parser = new tar.Parser({ strict: true });
  const writers = new Set<WriteStream>();
  const writes: Promise<void>[] = [];
  let total = 0;
  let entries = 0;
  let failure: Error | undefined;

  const ended = new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      if (failure) return; // the first error is the one to report; what follows from stopping is not
      failure = error;
      source.destroy();
      parser.abort(error);
      for (const writer of writers) writer.destroy();
      reject(error);
    };
    parser.on('entry', (entry: tar.ReadEntry) => {
      if (failure) return void entry.resume();
      entries++;
      total += entry.size ?? 0;
      const problem = entryProblem(entry, entries, total, limits);
      if (problem) {
        entry.resume();
        return fail(new ImportError([`${basename(file)}: ${problem}`]));
      }
      const path = posix.normalize(entry.path);
      if (!FILE_TYPES.has(entry.type) || (path !== CATALOGUE_FILE && !IMAGE_NAME.test(path))) {
        return void entry.resume(); // not part of an export: read past it, write nothing
      }
      // `wx`: an entry listed twice is refused instead of overwriting the first.
      const writer = createWriteStream(join(dir, path), { flags: 'wx' });
      writers.add(writer);
      writer.once('close', () => writers.delete(writer));
      writes.push(
        pipeline(entry, writer).catch((error: NodeJS.ErrnoException) =>
          fail(
            new ImportError([
              error.code === 'EEXIST'
                ? `${basename(file)}: ${path} is in the archive twice`
                : `cannot unpack ${path} into ${dir} (${error.code ?? error.message})`,
            ]),
          ),
        ),
      );
    });
    parser.on('error', (error: Error) => fail(archiveError(file, error)));
    parser.on('end', () => resolve());
    source.on('error', (error: NodeJS.ErrnoException) =>
      fail(new ImportError([`${file}: cannot read it (${error.code ?? error.message})`])),
    );
    source.pipe(parser);
  });
  try {
    await ended;
    await Promise.all(writes);
    if (failure) throw failure;
  } finally {
    // Nothing may still be writing into the folder when the caller removes it.
    await Promise.all(
      [...writers].map((writer) => new Promise<void>((closed) => writer.once('close', () => closed()))),
    );
  }
}

/** Why an entry is refused, judged from its header alone; undefined when it may be read. */
function entryProblem(entry: tar.ReadEntry, count: number, total: number, limits: ArchiveLimits): string | undefined {
  const path = entry.path;
  if (count > MAX_ENTRIES) return `more than ${MAX_ENTRIES} entries; an export holds one per image`;
  if (posix.isAbsolute(path) || /^[a-z]:/i.test(path) || path.split(/[/\\]/).includes('..'))
    return `${path}: a path outside the export folder`;
  if (TYPE_NAMES[entry.type]) return `${path} is ${TYPE_NAMES[entry.type]}; an export holds only plain files`;
  if (!FILE_TYPES.has(entry.type) && !DIRECTORY_TYPES.has(entry.type))
    return `${path}: an entry of type ${entry.type}; an export holds only plain files`;
  const size = entry.size ?? 0;
  if (posix.normalize(path) === CATALOGUE_FILE && size > CATALOGUE_LIMIT)
    return `${path}: ${size} bytes, more than the ${CATALOGUE_LIMIT} a catalogue may have`;
  if (FILE_TYPES.has(entry.type) && size > limits.imageBytes)
    return `${path}: ${size} bytes, more than the upload limit (${limits.imageBytes} bytes), so no image of an export`;
  if (total > limits.totalBytes)
    return `the entries add up to more than ${limits.totalBytes} bytes in all (raise it with --max-total)`;
  return undefined;
}

/** node-tar's and zlib's errors, as a sentence about the file. */
function archiveError(file: string, error: Error & { code?: string; tarCode?: string }): Error {
  if (error instanceof ImportError) return error;
  const detail = error.message.replace(/^TAR_\w+: /, '');
  if (/decompression ratio/.test(detail))
    return new ImportError([`${basename(file)}: inflates more than a thousandfold; refused as a decompression bomb`]);
  return new ImportError([`${basename(file)}: not a readable .tar.gz, or damaged (${detail})`]);
}

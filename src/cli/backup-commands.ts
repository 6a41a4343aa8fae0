import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseSize } from '../config.js';
import type { Storage } from '../storage.js';
import { addConfigFlags, configFromFlags } from './config-flags.js';
import { openDataStorage, withInit } from './data-folder.js';
import { CliError } from './exit-codes.js';
import type { CliIo, CliState } from './program.js';

const STORAGE_FLAGS = ['data', 'databaseUrl'] as const;
const isArchive = (path: string) => /\.(tar\.gz|tgz)$/i.test(path);

/** The kinds of failure these commands explain in one line instead of a stack trace. */
async function isExplained(error: unknown): Promise<boolean> {
  const [{ ImportError }, { DomainError }] = await Promise.all([
    import('../features/backup/export-reader.js'),
    import('../lib/domain-error.js'),
  ]);
  return error instanceof ImportError || error instanceof DomainError || error instanceof CliError;
}

/**
 * export, import, import-legacy: work on the data folder or database directly (the server may be running). Their
 * modules are loaded when they run, so that `esp-ota --help` and the client commands start quickly.
 */
export function registerBackupCommands(program: Command, io: CliIo, state: CliState): void {
  const fail = async (error: unknown) => {
    if (!(await isExplained(error))) throw error;
    io.err.write(`${(error as Error).message}\n`);
    state.exitCode = error instanceof CliError ? error.exitCode : 1;
  };

  withInit(
    addConfigFlags(
      program
        .command('export')
        .description('write the catalogue as YAML plus the image files, into a folder or a .tar.gz')
        .requiredOption('--out <path>', 'a folder, or a file ending in .tar.gz'),
      STORAGE_FLAGS,
    ),
  ).action(async (flags: Record<string, string>) => {
    const config = configFromFlags(flags, io, state);
    if (!config) return;
    let storage: Storage | undefined;
    const folder = isArchive(flags.out!) ? await mkdtemp(join(tmpdir(), 'esp-ota-export-')) : flags.out!;
    try {
      storage = await openDataStorage(config, io, flags.init !== undefined);
      const [{ exportToDirectory }, { CATALOGUE_FILE, FIRMWARE_DIR }, tar, { systemClock }] = await Promise.all([
        import('../features/backup/catalogue-export.js'),
        import('../features/backup/export-format.js'),
        import('tar'),
        import('../lib/clock.js'),
      ]);
      const exported = await exportToDirectory(storage.catalogue, storage.blobs, folder, systemClock.now());
      if (isArchive(flags.out!))
        await tar.c({ gzip: true, file: flags.out!, cwd: folder }, [CATALOGUE_FILE, FIRMWARE_DIR]);
      const images = exported.platforms.reduce((n, p) => n + p.images.length, 0);
      io.out.write(`exported ${exported.platforms.length} platforms and ${images} images to ${flags.out}\n`);
    } catch (error) {
      await fail(error);
    } finally {
      if (isArchive(flags.out!)) await rm(folder, { recursive: true, force: true });
      await storage?.db.destroy();
    }
  });

  withInit(
    addConfigFlags(
      program
        .command('import <path>')
        .description('restore an export (folder or .tar.gz); checks everything first, applies all or nothing')
        .option('--max-total <size>', 'refuse a .tar.gz whose files add up to more than this', '4GiB'),
      [...STORAGE_FLAGS, 'uploadLimit'],
    ),
  ).action(async (path: string, flags: Record<string, string>) => {
    const config = configFromFlags(flags, io, state);
    if (!config) return;
    const maxTotal = parseSize(flags.maxTotal);
    if (!Number.isSafeInteger(maxTotal) || maxTotal < 1) {
      io.err.write(`--max-total must be a size such as 4GiB, not ${JSON.stringify(flags.maxTotal)}\n`);
      state.exitCode = 2;
      return;
    }
    let folder: string | undefined;
    let storage: Storage | undefined;
    try {
      const [{ ImportError }, { extractExportArchive }, { importFromDirectory }, { systemClock }] = await Promise.all([
        import('../features/backup/export-reader.js'),
        import('../features/backup/export-archive.js'),
        import('../features/backup/catalogue-import.js'),
        import('../lib/clock.js'),
      ]);
      if (isArchive(path)) {
        // Unpacked first, within limits, so that a bad archive never gets as far as the database.
        folder = await mkdtemp(join(tmpdir(), 'esp-ota-import-'));
        await extractExportArchive(path, folder, { imageBytes: config.uploadLimit, totalBytes: maxTotal });
      } else if (!(await stat(path).catch(() => undefined))?.isDirectory()) {
        throw new ImportError([`${path} is neither a folder nor a .tar.gz file`]);
      }
      storage = await openDataStorage(config, io, flags.init !== undefined);
      const report = await importFromDirectory(folder ?? path, {
        ...storage,
        clock: systemClock,
        uploadLimit: config.uploadLimit,
      });
      io.out.write(
        `imported: ${report.platformsCreated.length} new platforms, ${report.devicesAllowed} allowed devices, ${report.imagesImported.length} images` +
          (report.imagesAlreadyPresent.length
            ? `; ${report.imagesAlreadyPresent.length} images were already here`
            : '') +
          (report.installAssetsRestored ? `; ${report.installAssetsRestored} install assets` : '') +
          '\n',
      );
    } catch (error) {
      await fail(error);
    } finally {
      // Cleaning up must not hide the error that ended the import: its own failures are only mentioned.
      if (folder)
        await rm(folder, { recursive: true, force: true }).catch((error: NodeJS.ErrnoException) =>
          io.err.write(`could not remove the temporary folder ${folder} (${error.code ?? error.message})\n`),
        );
      await storage?.db.destroy().catch(() => undefined);
    }
  });

  withInit(
    addConfigFlags(
      program
        .command('import-legacy <dir>')
        .description(
          'import platforms.yml and the binaries of the original Flask server (kstobbe/esp-update-server): ' +
            'give its app folder or its bin/ folder',
        ),
      [...STORAGE_FLAGS, 'uploadLimit'],
    ),
  ).action(async (dir: string, flags: Record<string, string>) => {
    const config = configFromFlags(flags, io, state);
    if (!config) return;
    let storage: Storage | undefined;
    try {
      const [{ importLegacy, legacyFolder }, { PlatformService }, { FirmwareService }, { systemClock }] =
        await Promise.all([
          import('../features/backup/legacy-import.js'),
          import('../features/platforms/platform-service.js'),
          import('../features/firmware/firmware-service.js'),
          import('../lib/clock.js'),
        ]);
      // Found before the database is opened, so a wrong path changes nothing.
      const folder = await legacyFolder(dir);
      io.err.write(`reading ${join(folder, 'platforms.yml')}\n`);
      storage = await openDataStorage(config, io, flags.init !== undefined);
      // The services alone: no web application, no accounts, no listening socket. A running server picks the new
      // catalogue up on its next refresh.
      const { catalogue, blobs } = storage;
      const nothing = () => undefined;
      const report = await importLegacy(folder, {
        platforms: new PlatformService(catalogue, systemClock, nothing, nothing),
        firmware: new FirmwareService(catalogue, blobs, systemClock, config.uploadLimit, nothing, nothing),
      });
      for (const line of report.imported) io.out.write(`imported  ${line}\n`);
      for (const line of report.skipped) io.out.write(`skipped   ${line}\n`);
      for (const line of report.failed) io.err.write(`failed    ${line}\n`);
      if (report.failed.length > 0) state.exitCode = 1;
    } catch (error) {
      await fail(error);
    } finally {
      await storage?.db.destroy().catch(() => undefined);
    }
  });
}

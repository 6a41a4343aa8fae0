import type { Command } from 'commander';
import { clientAction, clientOf, printJson, printTable, wantsJson, wholeNumber, withJson } from './client-kit.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo, CliState } from './program.js';

interface InstallAssetJson {
  imageId: number;
  layout: 'factory' | 'parts';
  chip: string;
  appOffset: string;
  createdBy: string;
  createdAt: string;
  parts: { role: string; offset: string; size: number; md5: string; sha256: string }[];
}

const imageId = wholeNumber(1, Number.MAX_SAFE_INTEGER);

/** `esp-ota install-asset …`: a release's files for browser installs (ESP Web Tools), over the REST API. */
export function registerInstallCommands(program: Command, io: CliIo, state: CliState): void {
  const action = (work: Parameters<typeof clientAction>[2]) => clientAction(io, state, work);
  const group = program
    .command('install-asset')
    .description('a release’s factory image (or bootloader, partition table, app) for installs from a browser');

  const print = (command: Command, asset: InstallAssetJson) => {
    if (wantsJson(command)) return printJson(io, asset);
    printTable(
      io,
      ['PART', 'OFFSET', 'SIZE', 'SHA256'],
      asset.parts.map((p) => [p.role, p.offset, p.size, p.sha256]),
      '',
    );
    io.out.write(`${asset.chip}, app at ${asset.appOffset}; added by ${asset.createdBy} at ${asset.createdAt}\n`);
  };

  withJson(
    group
      .command('add')
      .description('attach install files to an image: --factory, or --bootloader, --partitions and --app')
      .argument('<id>', 'the image (release) whose app they install', imageId)
      .option('--factory <file>', 'a merged/factory image written at flash 0 (esptool merge_bin, firmware.factory.bin)')
      .option('--bootloader <file>', 'the build’s bootloader.bin')
      .option('--partitions <file>', 'the build’s partition table (partition-table.bin, partitions.bin)')
      .option('--app <file>', 'the build’s app: the same file as the image'),
  ).action(
    action(async (command, id) => {
      const options = command.opts<{ factory?: string; bootloader?: string; partitions?: string; app?: string }>();
      const parts = [options.bootloader, options.partitions, options.app];
      let files: Record<string, string>;
      if (options.factory && parts.every((p) => p === undefined)) files = { factory: options.factory };
      else if (!options.factory && parts.every((p) => p !== undefined))
        files = { bootloader: options.bootloader!, partitions: options.partitions!, app: options.app! };
      else throw new CliError('give --factory, or all three of --bootloader, --partitions and --app', EXIT.usage);
      const asset = await clientOf(command).uploadFiles<InstallAssetJson>(
        `/api/v1/firmware/${id}/install-asset`,
        files,
      );
      if (!wantsJson(command)) io.out.write(`image ${id} can be installed from a browser\n`);
      print(command, asset);
    }),
  );

  withJson(group.command('show').description('an image’s install files').argument('<id>', 'image id', imageId)).action(
    action(async (command, id) => {
      print(command, await clientOf(command).request<InstallAssetJson>('GET', `/api/v1/firmware/${id}/install-asset`));
    }),
  );

  group
    .command('rm')
    .description('remove an image’s install files (the image stays)')
    .argument('<id>', 'image id', imageId)
    .action(
      action(async (command, id) => {
        await clientOf(command).request('DELETE', `/api/v1/firmware/${id}/install-asset`);
        io.out.write(`removed the install files of image ${id}\n`);
      }),
    );
}

import type { Command } from 'commander';
import { clientAction, clientOf, printJson, printTable, wantsJson, wholeNumber, withJson } from './client-kit.js';
import type { CliIo, CliState } from './program.js';

interface ImageJson {
  id: number;
  platform?: string;
  kind: string;
  version: string;
  chip: string | null;
  size: number;
  md5: string;
  sha256: string;
  filename: string | null;
  identitySource: string;
  uploadedAt: string;
  released?: boolean;
  /** Servers before issue 17 do not send it. */
  signature?: SignatureJson | null;
}
interface SignatureJson {
  state: string;
  layout: string | null;
  algorithm: string | null;
  keyDigests: string[];
  signedByServer: boolean;
  problems: string[];
}
interface UploadJson {
  image: ImageJson;
  platform: { name: string };
  released: boolean;
  /** Why it was released or kept (servers before issue 12 do not send it). */
  release?: { code: string; reason: string };
  identity: { version: { source: string; evidence?: string }; conflicts: string[] };
  signature?: SignatureJson | null;
}

/** `verified rsa-pkcs1-sha256 (esp8266) by 3f2a…`: an image's signature on one line. */
export function describeSignature(s: SignatureJson | null | undefined): string {
  if (!s) return '-';
  if (s.state === 'unsigned') return 'unsigned';
  const how = [s.algorithm, s.layout ? `(${s.layout})` : ''].filter(Boolean).join(' ');
  const keys = s.keyDigests.length ? ` key ${s.keyDigests.map((d) => d.slice(0, 12)).join(', ')}` : '';
  return `${s.state}${how ? ` ${how}` : ''}${keys}${s.signedByServer ? ', signed by this server' : ''}`;
}

const enc = encodeURIComponent;
const imageId = wholeNumber(1, Number.MAX_SAFE_INTEGER);

/** `esp-ota upload` and `esp-ota firmware …`: images, over the REST API. */
export function registerFirmwareCommands(program: Command, io: CliIo, state: CliState): void {
  const action = (work: Parameters<typeof clientAction>[2]) => clientAction(io, state, work);

  program
    .command('upload <file>')
    .description('upload a firmware image; platform and version are read from the image unless given')
    .option('--platform <name>', 'the platform it is for')
    .option('--version <version>', 'its version (when the image does not say, or says several)')
    .option('--filesystem', 'it is a filesystem image (SPIFFS/LittleFS), not an application')
    .option('--release', 'release it now, even if it is not the highest version')
    .option('--label', 'the --version is an opaque label on purpose, not a version')
    .option('--force', 'keep it although its app descriptor names another project than the platform')
    .option('--confirm-key-change', 'it is signed by another key than the released image, and that is intended')
    .action(
      action(async (command, file) => {
        const options = command.opts<{
          platform?: string;
          version?: string;
          release?: boolean;
          filesystem?: boolean;
          label?: boolean;
          force?: boolean;
          confirmKeyChange?: boolean;
        }>();
        const query = new URLSearchParams();
        if (options.platform) query.set('platform', options.platform);
        if (options.version) query.set('version', options.version);
        if (options.release) query.set('release', 'true');
        if (options.filesystem) query.set('kind', 'filesystem');
        if (options.label) query.set('label', 'true');
        if (options.force) query.set('force', 'true');
        if (options.confirmKeyChange) query.set('confirmKeyChange', 'true');
        const tty = (io.err as NodeJS.WriteStream).isTTY === true;
        const progress = tty
          ? (sent: number, total: number) => {
              const width = 30;
              const done = Math.round((sent / total) * width);
              io.err.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${Math.round((sent / total) * 100)}%`);
            }
          : undefined;
        let result: UploadJson;
        try {
          result = await clientOf(command).upload<UploadJson>(`/api/v1/firmware?${query}`, file!, progress);
        } finally {
          if (tty) io.err.write('\n');
        }
        const { image } = result;
        io.out.write(
          `uploaded ${result.platform.name} ${image.version} (${image.chip ?? 'filesystem'}, ${image.size} bytes, id ${image.id}; version from ${result.identity.version.source})${result.released ? ', released' : ''}\n`,
        );
        if (!result.released && result.release)
          io.out.write(`not released (${result.release.code}): ${result.release.reason}\n`);
        if (result.signature) io.out.write(`signature: ${describeSignature(result.signature)}\n`);
        for (const problem of result.signature?.problems ?? []) io.err.write(`signature warning: ${problem}\n`);
        for (const conflict of result.identity.conflicts) io.err.write(`warning: ${conflict}\n`);
      }),
    );

  const firmware = program.command('firmware').description('list, inspect, release, delete and download kept images');

  withJson(firmware.command('list <platform>').description('a platform’s images, newest upload first')).action(
    action(async (command, name) => {
      const { images } = await clientOf(command).request<{ images: ImageJson[] }>(
        'GET',
        `/api/v1/platforms/${enc(name!)}/firmware`,
      );
      if (wantsJson(command)) return printJson(io, images);
      printTable(
        io,
        ['ID', 'VERSION', 'KIND', 'CHIP', 'SIZE', 'UPLOADED', 'RELEASED', 'SIGNATURE'],
        images.map((i) => [
          i.id,
          i.version,
          i.kind,
          i.chip,
          i.size,
          i.uploadedAt,
          i.released ? 'yes' : '',
          describeSignature(i.signature),
        ]),
        `no images on ${name}; upload one with \`esp-ota upload <file> --platform ${name}\``,
      );
    }),
  );

  withJson(
    firmware
      .command('show')
      .description('one image with what the analyser read from it')
      .argument('<id>', 'image id', imageId),
  ).action(
    action(async (command, id) => {
      const image = await clientOf(command).request<ImageJson & { analysis: Record<string, unknown> }>(
        'GET',
        `/api/v1/firmware/${id}`,
      );
      if (wantsJson(command)) return printJson(io, image);
      const rows: (string | number | null)[][] = [
        ['id', image.id],
        ['platform', image.platform ?? '-'],
        ['version', `${image.version} (from ${image.identitySource})`],
        ['kind', image.kind],
        ['chip', image.chip],
        ['size', `${image.size} bytes`],
        ['md5', image.md5],
        ['sha256', image.sha256],
        ['file name', image.filename],
        ['uploaded', image.uploadedAt],
        ['released', image.released ? 'yes' : 'no'],
        ['signature', describeSignature(image.signature)],
      ];
      for (const [key, value] of Object.entries(image.analysis ?? {}))
        if (value !== null && typeof value !== 'object') rows.push([`analysis: ${key}`, String(value)]);
      printTable(io, ['FIELD', 'VALUE'], rows, '');
    }),
  );

  firmware
    .command('release')
    .description('release this image (or roll back to it): its platform’s devices move to it')
    .argument('<id>', 'image id', imageId)
    .option('--confirm-key-change', 'it is signed by another key than the released image, and that is intended')
    .action(
      action(async (command, id) => {
        const confirm = command.opts<{ confirmKeyChange?: boolean }>().confirmKeyChange ? '?confirmKeyChange=true' : '';
        const platform = await clientOf(command).request<{ name: string }>(
          'POST',
          `/api/v1/firmware/${id}/release${confirm}`,
        );
        io.out.write(`released image ${id} on ${platform.name}\n`);
      }),
    );

  firmware
    .command('rm')
    .description('delete a kept image (not the released one)')
    .argument('<id>', 'image id', imageId)
    .action(
      action(async (command, id) => {
        await clientOf(command).request('DELETE', `/api/v1/firmware/${id}`);
        io.out.write(`deleted image ${id}\n`);
      }),
    );

  firmware
    .command('download')
    .description('save an image’s bytes to a file')
    .argument('<id>', 'image id', imageId)
    .option('-o, --out <file>', 'where to write it (default: firmware-<id>.bin)')
    .action(
      action(async (command, id) => {
        const file = command.opts<{ out?: string }>().out ?? `firmware-${id}.bin`;
        const { bytes, md5 } = await clientOf(command).download(`/api/v1/firmware/${id}/download`, file);
        io.out.write(`wrote ${bytes} bytes to ${file}${md5 ? ` (md5 ${md5})` : ''}\n`);
      }),
    );
}

import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { parseSize } from '../config.js';
import { normalizeMac } from '../lib/mac.js';
import { clientAction, clientOf, printJson, printTable, wantsJson, withJson } from './client-kit.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo, CliState } from './program.js';

interface PlatformJson {
  name: string;
  chip: string | null;
  accessMode: string;
  releasedAppId: number | null;
  releasedFilesystemId: number | null;
  releasePinned: boolean;
  fsPartitionSize: number | null;
  deviceAuth: string;
  deviceUser: string | null;
  deviceSecretSet: boolean;
  releasePolicy?: string;
  rolloutTemplate?: { stages?: number[] } | null;
  updateWindow?: { from: string; to: string; timeZone: string } | null;
  esp8266Gzip?: 'off' | 'auto' | 'on';
  minimalPlatform?: string | null;
  flashMode?: string | null;
  createdAt: string;
  updatedAt: string;
}
interface AllowedJson {
  mac: string;
  label: string | null;
  addedAt: string;
}

const enc = encodeURIComponent;

/** The settings `platform add` and `platform set` share, as PATCH/POST body fields (platform-routes.ts). */
function settingOptions(command: Command): Command {
  return command
    .option('--chip <chip>', 'chip the images must be built for (esp8266, esp32, esp32s3, …); "none" clears it')
    .addOption(new Option('--access <mode>', 'who is served').choices(['allowlist', 'open']))
    .option('--fs-size <size>', 'filesystem partition size, e.g. 1MiB (checks filesystem images); "none" clears it')
    .addOption(
      new Option('--device-login <kind>', 'what devices must send: nothing, a shared Basic login, or a token').choices([
        'off',
        'basic',
        'token',
      ]),
    )
    .option('--device-user <user>', 'user name for --device-login basic')
    .option('--device-secret <secret>', 'shared password or token devices send; "none" removes it')
    .addOption(
      new Option('--release-policy <policy>', 'what a certain upload does: released, kept, or a rollout').choices([
        'auto',
        'manual',
        'rollout',
      ]),
    )
    .option('--rollout-stages <percentages>', 'the rollout template\'s stages, e.g. 1,10,50,100; "none" clears it')
    .option('--update-window <window>', 'hours devices may update, e.g. 22:00-05:00@Europe/Berlin; "none": any time')
    .addOption(
      new Option('--gzip <mode>', 'gzip copies for ESP8266 devices: never, core ≥ 2.7 seen, all').choices([
        'off',
        'auto',
        'on',
      ]),
    )
    .option('--minimal-platform <name>', 'platform whose release is the Tasmota -minimal image; "none" unpairs')
    .option(
      '--flash-mode <mode>',
      'ESP8266: the flash mode the boards run (qio, qout, dio, dout); signed images must match; "none" clears it',
    );
}

/** `22:00-05:00@Europe/Berlin` (the zone defaults to UTC) as the API's update window. */
function updateWindowOption(text: string): { from: string; to: string; timeZone: string } | null {
  if (text === 'none') return null;
  const match = /^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})(?:@(.+))?$/.exec(text);
  if (!match)
    throw new CliError(
      `--update-window must look like 22:00-05:00@Europe/Berlin, not ${JSON.stringify(text)}`,
      EXIT.usage,
    );
  return { from: match[1]!, to: match[2]!, timeZone: match[3] ?? 'UTC' };
}

/** `1,10,50,100` as a rollout template; the server checks the numbers. */
function rolloutStagesOption(text: string): { stages: number[] } | null {
  if (text === 'none') return null;
  const stages = text.split(',').map((n) => Number(n.trim()));
  if (stages.some((n) => !Number.isFinite(n)))
    throw new CliError(
      `--rollout-stages must be percentages such as 1,10,50,100, not ${JSON.stringify(text)}`,
      EXIT.usage,
    );
  return { stages };
}

function settingsBody(options: Record<string, string | boolean | undefined>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const orNull = (v: string) => (v === 'none' ? null : v);
  if (options.chip !== undefined) body.chip = orNull(String(options.chip));
  if (options.open) body.accessMode = 'open';
  if (options.access !== undefined) body.accessMode = options.access;
  if (options.fsSize !== undefined) {
    const text = String(options.fsSize);
    const size = text === 'none' ? null : parseSize(text);
    if (size !== null && (!Number.isSafeInteger(size) || size < 1))
      throw new CliError(`--fs-size must be a size such as 1MiB or 1048576, not ${JSON.stringify(text)}`, EXIT.usage);
    body.fsPartitionSize = size;
  }
  if (options.deviceLogin !== undefined) body.deviceAuth = options.deviceLogin;
  if (options.deviceUser !== undefined) body.deviceUser = orNull(String(options.deviceUser));
  if (options.deviceSecret !== undefined) body.deviceSecret = orNull(String(options.deviceSecret));
  if (options.releasePolicy !== undefined) body.releasePolicy = options.releasePolicy;
  if (options.rolloutStages !== undefined) body.rolloutTemplate = rolloutStagesOption(String(options.rolloutStages));
  if (options.updateWindow !== undefined) body.updateWindow = updateWindowOption(String(options.updateWindow));
  if (options.gzip !== undefined) body.esp8266Gzip = options.gzip;
  if (options.minimalPlatform !== undefined) body.minimalPlatform = orNull(String(options.minimalPlatform));
  if (options.flashMode !== undefined) body.flashMode = orNull(String(options.flashMode));
  return body;
}

function describePlatform(p: PlatformJson): string[][] {
  return [
    ['name', p.name],
    ['chip', p.chip ?? '-'],
    ['access', p.accessMode],
    [
      'released app image',
      p.releasedAppId === null ? '-' : `id ${p.releasedAppId}${p.releasePinned ? ' (pinned)' : ''}`,
    ],
    ['released filesystem image', p.releasedFilesystemId === null ? '-' : `id ${p.releasedFilesystemId}`],
    ['filesystem partition', p.fsPartitionSize === null ? '-' : `${p.fsPartitionSize} bytes`],
    [
      'device login',
      p.deviceAuth + (p.deviceUser ? ` (user ${p.deviceUser})` : '') + (p.deviceSecretSet ? ', secret set' : ''),
    ],
    ['release policy', p.releasePolicy ?? '-'],
    ['flash mode (ESP8266)', p.flashMode ?? '-'],
    ['rollout stages', p.rolloutTemplate?.stages?.join(', ') ?? '-'],
    [
      'update window',
      p.updateWindow ? `${p.updateWindow.from}–${p.updateWindow.to} (${p.updateWindow.timeZone})` : 'any time',
    ],
    ['ESP8266 gzip', p.esp8266Gzip ?? '-'],
    ['Tasmota minimal platform', p.minimalPlatform ?? '-'],
    ['created', p.createdAt],
    ['changed', p.updatedAt],
  ];
}

/** One MAC per line, optionally followed by its label; blank lines and # comments are skipped. */
export function parseMacList(text: string): { mac: string; label?: string }[] {
  const entries: { mac: string; label?: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const content = line.replace(/#.*/, '').trim();
    if (!content) continue;
    const [mac, ...label] = content.split(/[\s,;]+/);
    entries.push(label.length ? { mac: mac!, label: label.join(' ') } : { mac: mac! });
  }
  return entries;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

/** `esp-ota platform …` and `esp-ota allow …`: platforms and their allowlists, over the REST API. */
export function registerPlatformCommands(program: Command, io: CliIo, state: CliState): void {
  const action = (work: Parameters<typeof clientAction>[2]) => clientAction(io, state, work);
  const platform = program.command('platform').description('manage platforms (firmware lines)');

  withJson(platform.command('list').description('list the platforms')).action(
    action(async (command) => {
      const { platforms } = await clientOf(command).request<{ platforms: PlatformJson[] }>('GET', '/api/v1/platforms');
      if (wantsJson(command)) return printJson(io, platforms);
      printTable(
        io,
        ['NAME', 'CHIP', 'ACCESS', 'RELEASED', 'DEVICE LOGIN'],
        platforms.map((p) => [
          p.name,
          p.chip,
          p.accessMode,
          p.releasedAppId === null ? '-' : `id ${p.releasedAppId}`,
          p.deviceAuth,
        ]),
        'no platforms yet; add one with `esp-ota platform add <name>`',
      );
    }),
  );

  withJson(platform.command('show <name>').description('show one platform’s settings')).action(
    action(async (command, name) => {
      const p = await clientOf(command).request<PlatformJson>('GET', `/api/v1/platforms/${enc(name!)}`);
      if (wantsJson(command)) return printJson(io, p);
      printTable(io, ['SETTING', 'VALUE'], describePlatform(p), '');
    }),
  );

  settingOptions(
    platform
      .command('add <name>')
      .description('create a platform (default: only allowlisted devices are served)')
      .option('--open', 'serve any device (same as --access open)'),
  ).action(
    action(async (command, name) => {
      const body = { name, accessMode: 'allowlist', ...settingsBody(command.opts()) };
      const created = await clientOf(command).request<PlatformJson>('POST', '/api/v1/platforms', body);
      io.out.write(
        `created platform ${created.name} (${created.accessMode}${created.chip ? `, ${created.chip}` : ''})\n`,
      );
    }),
  );

  settingOptions(
    platform
      .command('set <name>')
      .description('change a platform’s settings (only the options given)')
      .option('--rename <new-name>', 'give the platform a new name'),
  ).action(
    action(async (command, name) => {
      const options = command.opts<Record<string, string | undefined>>();
      const body = settingsBody(options);
      if (options.rename !== undefined) body.name = options.rename;
      if (Object.keys(body).length === 0)
        throw new CliError(
          'nothing to change: give at least one option (see `esp-ota platform set --help`)',
          EXIT.usage,
        );
      const changed = await clientOf(command).request<PlatformJson>('PATCH', `/api/v1/platforms/${enc(name!)}`, body);
      io.out.write(`changed platform ${changed.name}: ${Object.keys(body).join(', ')}\n`);
    }),
  );

  platform
    .command('rm <name>')
    .description('delete a platform with its images and allowlist')
    .action(
      action(async (command, name) => {
        await clientOf(command).request('DELETE', `/api/v1/platforms/${enc(name!)}`);
        io.out.write(`deleted platform ${name}\n`);
      }),
    );

  const allow = program.command('allow').description('manage a platform’s allowlist (which MACs it serves)');
  withJson(allow.command('list <platform>').description('list the devices a platform allows')).action(
    action(async (command, name) => {
      const { devices } = await clientOf(command).request<{ devices: AllowedJson[] }>(
        'GET',
        `/api/v1/platforms/${enc(name!)}/allowlist`,
      );
      if (wantsJson(command)) return printJson(io, devices);
      printTable(
        io,
        ['MAC', 'LABEL', 'ADDED'],
        devices.map((d) => [d.mac, d.label, d.addedAt]),
        `no devices allowed on ${name}; add them with \`esp-ota allow add ${name} <mac>…\``,
      );
    }),
  );

  allow
    .command('add <platform> [macs...]')
    .description('allow devices by MAC: on the command line, or one per line (MAC then label) from a file or - (stdin)')
    .option('--label <label>', 'a name for the device(s) given on the command line')
    .option('--from <file>', 'read "MAC [label]" lines from this file, or - for stdin')
    .action(
      action(async (command, name, ...macs) => {
        const options = command.opts<{ label?: string; from?: string }>();
        const entries = macs.map((mac) => (options.label ? { mac, label: options.label } : { mac }));
        if (options.from) {
          let text: string;
          try {
            text = options.from === '-' ? await readStdin() : await readFile(options.from, 'utf8');
          } catch (error) {
            throw new CliError(`cannot read ${options.from} (${(error as NodeJS.ErrnoException).code})`, EXIT.usage);
          }
          entries.push(...parseMacList(text));
        }
        if (entries.length === 0) throw new CliError('give at least one MAC, or --from <file>', EXIT.usage);
        const bad = entries.filter((e) => !normalizeMac(e.mac)).map((e) => e.mac);
        // Checked before anything is sent, so a typo in a long list does not leave half of it applied.
        if (bad.length) throw new CliError(`not MAC addresses: ${bad.join(', ')}; nothing was added`, EXIT.usage);
        const client = clientOf(command);
        for (const entry of entries) {
          const added = await client.request<AllowedJson>('POST', `/api/v1/platforms/${enc(name!)}/allowlist`, entry);
          io.out.write(`allowed ${added.mac}${added.label ? ` (${added.label})` : ''} on ${name}\n`);
        }
      }),
    );

  allow
    .command('rm <platform> <macs...>')
    .description('remove devices from a platform’s allowlist')
    .action(
      action(async (command, name, ...macs) => {
        const client = clientOf(command);
        for (const mac of macs) {
          await client.request('DELETE', `/api/v1/platforms/${enc(name!)}/allowlist/${enc(mac)}`);
          io.out.write(`removed ${mac} from ${name}\n`);
        }
      }),
    );
}

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
import type { CliIo, CliState } from './program.js';

interface GroupJson {
  name: string;
  excluded: boolean;
  pinnedVersion: string | null;
  members: number;
}
interface GroupDetailJson extends GroupJson {
  macs: string[];
}
interface PinJson {
  mac: string;
  platform: string;
  version: string;
  group: string | null;
}

const DEFAULT_SERVER = 'http://localhost:8080';

/**
 * `esp-ota group …` (device groups of a platform: members, exclusion from rollouts, pins) and `esp-ota device pin|unpin`
 * (one device's own pin). They talk to a running server over the REST API, like the other client commands.
 */
export function registerGroupCommands(program: Command, io: CliIo, state: CliState): void {
  const client = (command: Command) => {
    const options = command.optsWithGlobals() as { server?: string; token?: string };
    return new ApiClient(
      options.server ?? process.env.ESP_OTA_URL ?? DEFAULT_SERVER,
      options.token ?? process.env.ESP_OTA_TOKEN,
    );
  };
  const run = (work: (command: Command, ...args: (string | string[])[]) => Promise<void>) =>
    async function (this: Command, ...args: unknown[]) {
      try {
        await work(this, ...(args.filter((a) => typeof a === 'string' || Array.isArray(a)) as (string | string[])[]));
      } catch (error) {
        io.err.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        state.exitCode = 1;
      }
    };
  const json = (command: Command) => command.opts<{ json?: boolean }>().json === true;
  const print = (value: unknown): void => void io.out.write(JSON.stringify(value, null, 2) + '\n');
  const groupPath = (platform: string, name?: string) =>
    `/api/v1/platforms/${encodeURIComponent(platform)}/groups${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

  const group = program
    .command('group')
    .description('device groups of a platform: canaries, devices excluded from rollouts, devices pinned to a version');

  group
    .command('list <platform>')
    .description("list a platform's groups with their member counts")
    .option('--json', 'print JSON')
    .action(
      run(async (command, platform) => {
        const { groups } = await client(command).request<{ groups: GroupJson[] }>('GET', groupPath(String(platform)));
        if (json(command)) return print(groups);
        if (groups.length === 0) return void io.out.write(`no groups on ${String(platform)}\n`);
        io.out.write(
          table(
            ['NAME', 'MEMBERS', 'EXCLUDED', 'PINNED'],
            groups.map((g) => [g.name, String(g.members), g.excluded ? 'yes' : 'no', g.pinnedVersion ?? '-']),
          ),
        );
      }),
    );

  group
    .command('show <platform> <name>')
    .description('a group and its members')
    .option('--json', 'print JSON')
    .action(
      run(async (command, platform, name) => {
        const g = await client(command).request<GroupDetailJson>('GET', groupPath(String(platform), String(name)));
        if (json(command)) return print(g);
        io.out.write(
          `group ${g.name} on ${String(platform)}: ${g.members} devices, ` +
            `${g.excluded ? 'excluded from rollouts' : 'included in rollouts'}, ` +
            `${g.pinnedVersion ? `pinned to ${g.pinnedVersion}` : 'not pinned'}\n`,
        );
        if (g.macs.length > 0)
          io.out.write(
            table(
              ['MAC'],
              g.macs.map((m) => [m]),
            ),
          );
      }),
    );

  group
    .command('add <platform> <name>')
    .description('create a group')
    .option('--excluded', 'rollouts never move its devices')
    .option('--pin <version>', 'pin its devices to this app version')
    .action(
      run(async (command, platform, name) => {
        const options = command.opts<{ excluded?: boolean; pin?: string }>();
        const g = await client(command).request<GroupJson>('POST', groupPath(String(platform)), {
          name,
          excluded: options.excluded,
          pinnedVersion: options.pin,
        });
        io.out.write(`created group ${g.name} on ${String(platform)}\n`);
      }),
    );

  group
    .command('rm <platform> <name>')
    .description('delete a group (its devices go back to automatic unless other groups hold them)')
    .action(
      run(async (command, platform, name) => {
        await client(command).request('DELETE', groupPath(String(platform), String(name)));
        io.out.write(`deleted group ${String(name)} on ${String(platform)}\n`);
      }),
    );

  group
    .command('set <platform> <name>')
    .description('exclude or include a group in rollouts, pin or unpin it, rename it')
    .option('--excluded', 'rollouts never move its devices')
    .option('--included', 'rollouts move its devices again')
    .option('--pin <version>', 'pin its devices to this app version')
    .option('--unpin', 'its devices follow the release and rollouts again')
    .option('--rename <new-name>', 'give the group a new name')
    .action(
      run(async (command, platform, name) => {
        const o = command.opts<{
          excluded?: boolean;
          included?: boolean;
          pin?: string;
          unpin?: boolean;
          rename?: string;
        }>();
        if (o.excluded && o.included) throw new Error('--excluded and --included contradict each other');
        if (o.pin && o.unpin) throw new Error('--pin and --unpin contradict each other');
        const changes = {
          name: o.rename,
          excluded: o.excluded ? true : o.included ? false : undefined,
          pinnedVersion: o.pin ?? (o.unpin ? null : undefined),
        };
        if (Object.values(changes).every((v) => v === undefined))
          throw new Error('nothing to change: give --excluded, --included, --pin, --unpin or --rename');
        const g = await client(command).request<GroupJson>('PATCH', groupPath(String(platform), String(name)), changes);
        io.out.write(
          `group ${g.name}: ${g.excluded ? 'excluded from' : 'included in'} rollouts, ` +
            `${g.pinnedVersion ? `pinned to ${g.pinnedVersion}` : 'not pinned'}\n`,
        );
      }),
    );

  const members = group.command('members').description('add or remove devices of a group');
  const membersCommand = (verb: 'add' | 'rm') =>
    members
      .command(`${verb} <platform> <name> [macs...]`)
      .description(
        verb === 'add'
          ? 'add devices by MAC (any common format), from a file (--file F, - for stdin) or by allowlist label'
          : 'remove devices by MAC, from a file (--file F, - for stdin)',
      )
      .option('--file <file>', 'read MACs from this file, one per line or separated by spaces or commas; - is stdin');
  membersCommand('add')
    .option('--label <text>', 'also every allowlisted device whose label contains this text')
    .action(
      run(async (command, platform, name, macs) => {
        const options = command.opts<{ file?: string; label?: string }>();
        const all = [...(Array.isArray(macs) ? macs : []), ...readMacs(options.file)];
        if (all.length === 0 && !options.label) throw new Error('no MACs given (arguments, --file or --label)');
        const g = await client(command).request<GroupDetailJson>(
          'POST',
          `${groupPath(String(platform), String(name))}/members`,
          { macs: all, allowlistLabel: options.label },
        );
        io.out.write(`group ${g.name} now has ${g.members} devices\n`);
      }),
    );
  membersCommand('rm').action(
    run(async (command, platform, name, macs) => {
      const all = [...(Array.isArray(macs) ? macs : []), ...readMacs(command.opts<{ file?: string }>().file)];
      if (all.length === 0) throw new Error('no MACs given (arguments or --file)');
      const g = await client(command).request<GroupDetailJson>(
        'DELETE',
        `${groupPath(String(platform), String(name))}/members`,
        { macs: all },
      );
      io.out.write(`group ${g.name} now has ${g.members} devices\n`);
    }),
  );

  const device = program.command('device').description("one device's own pin");
  device
    .command('pin <mac> <version>')
    .description('pin a device to an app version of its platform (rollouts never move it)')
    .option('--platform <name>', 'the platform (default: the one it last checked in with)')
    .action(
      run(async (command, mac, version) => {
        const pin = await client(command).request<PinJson>(
          'PUT',
          `/api/v1/devices/${encodeURIComponent(String(mac))}/pin`,
          {
            version,
            platform: command.opts<{ platform?: string }>().platform,
          },
        );
        io.out.write(`pinned ${pin.mac} to ${pin.platform} ${pin.version}\n`);
      }),
    );
  device
    .command('unpin <mac>')
    .description("remove a device's own pin: back to automatic")
    .option('--platform <name>', 'only on this platform')
    .action(
      run(async (command, mac) => {
        const platform = command.opts<{ platform?: string }>().platform;
        const query = platform ? `?platform=${encodeURIComponent(platform)}` : '';
        await client(command).request('DELETE', `/api/v1/devices/${encodeURIComponent(String(mac))}/pin${query}`);
        io.out.write(`unpinned ${String(mac)}: back to automatic\n`);
      }),
    );
  device
    .command('pins <mac>')
    .description("a device's pins and groups")
    .option('--json', 'print JSON')
    .action(
      run(async (command, mac) => {
        const found = await client(command).request<{ pins: PinJson[]; groups: (GroupJson & { platform: string })[] }>(
          'GET',
          `/api/v1/devices/${encodeURIComponent(String(mac))}/pin`,
        );
        if (json(command)) return print(found);
        if (found.pins.length === 0 && found.groups.length === 0)
          return void io.out.write(`${String(mac)} is in no group and not pinned\n`);
        io.out.write(
          table(
            ['PLATFORM', 'GROUP', 'EXCLUDED', 'PINNED'],
            [
              ...found.pins.filter((p) => p.group === null).map((p) => [p.platform, '(own pin)', '-', p.version]),
              ...found.groups.map((g) => [g.platform, g.name, g.excluded ? 'yes' : 'no', g.pinnedVersion ?? '-']),
            ],
          ),
        );
      }),
    );
}

/** MACs from a file or stdin (`-`): one per line, or separated by spaces or commas; `#` starts a comment. */
function readMacs(file: string | undefined): string[] {
  if (file === undefined) return [];
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read ${file === '-' ? 'stdin' : file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/[\s,;]+/))
    .filter((word) => word !== '');
}

/** Columns padded to their widest cell, with a header row. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

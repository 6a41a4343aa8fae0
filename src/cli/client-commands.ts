import type { Command } from 'commander';
import { ApiClient, ApiError } from './api-client.js';
import type { CliIo, CliState } from './program.js';

interface PlatformJson {
  name: string;
  chip: string | null;
  accessMode: string;
  releasedAppId: number | null;
}
interface UploadJson {
  image: { id: number; version: string; chip: string | null; size: number };
  platform: { name: string };
  released: boolean;
  /** Why it was released or kept (servers before issue 12 do not send it). */
  release?: { code: string; reason: string };
  identity: { version: { source: string; evidence?: string }; conflicts: string[] };
}

const DEFAULT_SERVER = 'http://localhost:8080';

/** Commands that talk to a running server over the REST API: platform, allow, upload, devices, events. */
export function registerClientCommands(program: Command, io: CliIo, state: CliState): void {
  const client = (command: Command) => {
    const options = command.optsWithGlobals() as { server?: string; token?: string };
    return new ApiClient(
      options.server ?? process.env.ESP_OTA_URL ?? DEFAULT_SERVER,
      options.token ?? process.env.ESP_OTA_TOKEN,
    );
  };
  const run = (work: (command: Command, ...args: string[]) => Promise<void>) =>
    async function (this: Command, ...args: unknown[]) {
      try {
        await work(this, ...(args.filter((a) => typeof a === 'string') as string[]));
      } catch (error) {
        io.err.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        if (error instanceof ApiError && error.code === 'identity-needed') {
          const details = (
            error.body as {
              details?: { identity?: { version?: { candidates?: { value: string; context: string }[] } } };
            }
          ).details;
          for (const c of details?.identity?.version?.candidates ?? [])
            io.err.write(`  candidate: ${c.value}   ("${c.context.slice(0, 60)}")\n`);
          io.err.write('  give it with --version (and --platform)\n');
        }
        state.exitCode = 1;
      }
    };
  program.option('--server <url>', `server for client commands (default ESP_OTA_URL or ${DEFAULT_SERVER})`);
  program.option('--token <token>', 'API token for client commands (default ESP_OTA_TOKEN)');

  const platform = program.command('platform').description('manage platforms (firmware lines)');
  platform
    .command('add <name>')
    .option('--chip <chip>', 'chip the images must be built for (esp8266, esp32, esp32s3, …)')
    .option('--open', 'serve any device (default: only allowlisted MACs)')
    .action(
      run(async (command, name) => {
        const options = command.opts<{ chip?: string; open?: boolean }>();
        const created = await client(command).request<PlatformJson>('POST', '/api/v1/platforms', {
          name,
          chip: options.chip,
          accessMode: options.open ? 'open' : 'allowlist',
        });
        io.out.write(
          `created platform ${created.name} (${created.accessMode}${created.chip ? `, ${created.chip}` : ''})\n`,
        );
      }),
    );
  platform.command('list').action(
    run(async (command) => {
      const { platforms } = await client(command).request<{ platforms: PlatformJson[] }>('GET', '/api/v1/platforms');
      for (const p of platforms) io.out.write(`${p.name}\t${p.chip ?? '-'}\t${p.accessMode}\n`);
    }),
  );
  platform.command('rm <name>').action(
    run(async (command, name) => {
      await client(command).request('DELETE', `/api/v1/platforms/${encodeURIComponent(name!)}`);
      io.out.write(`deleted platform ${name}\n`);
    }),
  );

  const allow = program.command('allow').description('manage a platform’s allowlist');
  allow
    .command('add <platform> <mac>')
    .option('--label <label>', 'a name for the device')
    .action(
      run(async (command, name, mac) => {
        const entry = await client(command).request<{ mac: string }>(
          'POST',
          `/api/v1/platforms/${encodeURIComponent(name!)}/allowlist`,
          {
            mac,
            label: command.opts<{ label?: string }>().label,
          },
        );
        io.out.write(`allowed ${entry.mac} on ${name}\n`);
      }),
    );
  allow.command('rm <platform> <mac>').action(
    run(async (command, name, mac) => {
      await client(command).request(
        'DELETE',
        `/api/v1/platforms/${encodeURIComponent(name!)}/allowlist/${encodeURIComponent(mac!)}`,
      );
      io.out.write(`removed ${mac} from ${name}\n`);
    }),
  );

  program
    .command('upload <file>')
    .description('upload a firmware image; platform and version are read from the image unless given')
    .option('--platform <name>')
    .option('--version <version>')
    .option('--release', 'release it now, even if it is not the highest version')
    .option('--label', 'the --version is an opaque label on purpose, not a version')
    .option('--force', 'keep it although its app descriptor names another project than the platform')
    .action(
      run(async (command, file) => {
        const options = command.opts<{
          platform?: string;
          version?: string;
          release?: boolean;
          label?: boolean;
          force?: boolean;
        }>();
        const query = new URLSearchParams();
        if (options.platform) query.set('platform', options.platform);
        if (options.version) query.set('version', options.version);
        if (options.release) query.set('release', 'true');
        if (options.label) query.set('label', 'true');
        if (options.force) query.set('force', 'true');
        const tty = (io.err as NodeJS.WriteStream).isTTY === true;
        const progress = tty
          ? (sent: number, total: number) => {
              const width = 30;
              const done = Math.round((sent / total) * width);
              io.err.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${Math.round((sent / total) * 100)}%`);
            }
          : undefined;
        const result = await client(command).upload<UploadJson>(`/api/v1/firmware?${query}`, file!, progress);
        if (tty) io.err.write('\n');
        const { image } = result;
        io.out.write(
          `uploaded ${result.platform.name} ${image.version} (${image.chip ?? 'filesystem'}, ${image.size} bytes, id ${image.id}; version from ${result.identity.version.source})${result.released ? ', released' : ''}\n`,
        );
        if (!result.released && result.release)
          io.out.write(`not released (${result.release.code}): ${result.release.reason}\n`);
        for (const conflict of result.identity.conflicts) io.err.write(`warning: ${conflict}\n`);
      }),
    );

  program
    .command('devices')
    .description('list devices, most recently seen first')
    .option('--platform <name>')
    .option('--outdated', 'only devices not on the released version')
    .action(
      run(async (command) => {
        const options = command.opts<{ platform?: string; outdated?: boolean }>();
        const query = new URLSearchParams();
        if (options.platform) query.set('platform', options.platform);
        if (options.outdated) query.set('outdated', 'true');
        const { devices } = await client(command).request<{ devices: Record<string, unknown>[] }>(
          'GET',
          `/api/v1/devices?${query}`,
        );
        for (const d of devices)
          io.out.write(`${d.mac}\t${d.platform}\t${d.version ?? '-'}\t${d.lastSeenAt}\t${d.lastReason}\n`);
      }),
    );

  program
    .command('events')
    .description('show the newest events')
    .option('--platform <name>')
    .option('--mac <mac>')
    .option('--limit <n>', 'how many', '50')
    .action(
      run(async (command) => {
        const options = command.opts<{ platform?: string; mac?: string; limit: string }>();
        const query = new URLSearchParams({ limit: options.limit });
        if (options.platform) query.set('platform', options.platform);
        if (options.mac) query.set('mac', options.mac);
        const { events } = await client(command).request<{ events: Record<string, unknown>[] }>(
          'GET',
          `/api/v1/events?${query}`,
        );
        for (const e of events) {
          io.out.write(
            `${e.at}\t${e.type}\t${e.platform ?? '-'}\t${e.mac ?? '-'}\t${e.fromVersion ?? ''}→${e.toVersion ?? ''}\t${e.reason ?? ''}\n`,
          );
        }
      }),
    );
}

import type { Command } from 'commander';
import { clientAction, clientOf, printJson, printTable, wantsJson, withJson } from './client-kit.js';
import type { CliIo, CliState } from './program.js';

interface DeviceKeyJson {
  platform: string;
  mac: string;
  key: string;
  createdAt: number;
  createdBy: string;
  manifestPath: string;
}

/**
 * `esp-ota device-key mint|list|revoke`: per-device manifest URLs for clients whose requests name no device
 * (ESPHome). Over the REST API, like the other client commands; the event names the token's owner.
 */
export function registerDeviceKeyCommands(program: Command, io: CliIo, state: CliState): void {
  const keysPath = (platform: string, mac?: string) =>
    `/api/v1/platforms/${encodeURIComponent(platform)}/device-keys${mac === undefined ? '' : `/${encodeURIComponent(mac)}`}`;
  const command = program
    .command('device-key')
    .description('per-device manifest URLs (ESPHome): a key the server mints stands for one device on a platform');

  withJson(
    command
      .command('mint <platform> <mac>')
      .description('mint a key for a device (replaces its old one) and print its ESPHome manifest URL'),
  ).action(
    clientAction(io, state, async (cmd, platform, mac) => {
      const client = clientOf(cmd);
      const minted = await client.request<DeviceKeyJson>('POST', keysPath(platform!), { mac });
      if (wantsJson(cmd)) return printJson(io, minted);
      io.out.write(`${minted.mac} on ${minted.platform}: ${client.server}${minted.manifestPath}\n`);
    }),
  );

  withJson(command.command('list <platform>').description("a platform's device keys and their manifest URLs")).action(
    clientAction(io, state, async (cmd, platform) => {
      const client = clientOf(cmd);
      const { keys } = await client.request<{ keys: DeviceKeyJson[] }>('GET', keysPath(platform!));
      if (wantsJson(cmd)) return printJson(io, { keys });
      printTable(
        io,
        ['MAC', 'BY', 'MANIFEST URL'],
        keys.map((k) => [k.mac, k.createdBy, `${client.server}${k.manifestPath}`]),
        'no device keys',
      );
    }),
  );

  command
    .command('revoke <platform> <mac>')
    .description("revoke a device's key: its manifest URL stops working")
    .action(
      clientAction(io, state, async (cmd, platform, mac) => {
        await clientOf(cmd).request('DELETE', keysPath(platform!, mac));
        io.out.write(`revoked the key of ${mac} on ${platform}\n`);
      }),
    );
}

import type { Command } from 'commander';
import { registerActivityCommands } from './activity-commands.js';
import { DEFAULT_SERVER } from './client-kit.js';
import { registerFirmwareCommands } from './firmware-commands.js';
import { registerPlatformCommands } from './platform-commands.js';
import { registerKeyCommands } from './key-commands.js';
import type { CliIo, CliState } from './program.js';

/** Commands that talk to a running server over the REST API; the shared pieces are in client-kit.ts. */
export function registerClientCommands(program: Command, io: CliIo, state: CliState): void {
  program.option('--server <url>', `server for client commands (default ESP_OTA_URL or ${DEFAULT_SERVER})`);
  program.option('--token <token>', 'API token for client commands (default ESP_OTA_TOKEN)');
  registerPlatformCommands(program, io, state);
  registerKeyCommands(program, io, state);
  registerFirmwareCommands(program, io, state);
  registerActivityCommands(program, io, state);
}

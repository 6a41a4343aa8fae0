import { readFileSync } from 'node:fs';
import { Command, Help, Option } from 'commander';
import { registerInspectCommand } from './inspect-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerClientCommands } from './client-commands.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerAuthCommands } from './auth-commands.js';
import { registerGroupCommands } from './group-commands.js';
import { registerDeviceKeyCommands } from './device-key-commands.js';
import { registerWebhookCommands } from './webhook-commands.js';
import { registerRolloutCommands } from './rollout-commands.js';
import { registerInstallCommands } from './install-commands.js';
import { registerMigrateCommand } from './migrate-command.js';

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Commands record their exit status here instead of calling process.exit, so tests can run them in-process. */
export interface CliState {
  exitCode: number;
}

/** The version in package.json (beside src/ and dist/ alike). */
export function programVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

// Listed in the help, answered by main(): a real commander --version would swallow `upload --version 1.2.3`.
const VERSION_OPTION = new Option('-V, --version', 'print the version');

export function buildProgram(io: CliIo, state: CliState): Command {
  const program = new Command('esp-ota')
    .description('Self-hosted OTA firmware update server for ESP32 and ESP8266 fleets')
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    // Before the subcommands exist, so that they inherit it: main() maps commander's refusals to exit code 2.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 refused or failed, 2 usage, 3 server unreachable, 4 authentication.');
  program.configureHelp({
    visibleOptions: (command) => {
      const shown = new Help().visibleOptions(command);
      return command === program ? [VERSION_OPTION, ...shown] : shown;
    },
  });
  registerServeCommand(program, io, state);
  registerInspectCommand(program, io, state);
  registerClientCommands(program, io, state);
  registerBackupCommands(program, io, state);
  registerAuthCommands(program, io, state);
  registerGroupCommands(program, io, state);
  registerDeviceKeyCommands(program, io, state);
  registerWebhookCommands(program, io, state);
  registerRolloutCommands(program, io, state);
  registerInstallCommands(program, io, state);
  registerMigrateCommand(program, io, state);
  return program;
}

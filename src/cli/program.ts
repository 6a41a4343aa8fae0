import { Command } from 'commander';
import { registerInspectCommand } from './inspect-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerClientCommands } from './client-commands.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerAuthCommands } from './auth-commands.js';
import { registerGroupCommands } from './group-commands.js';
import { registerRolloutCommands } from './rollout-commands.js';
import { registerMigrateCommand } from './migrate-command.js';

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Commands record their exit status here instead of calling process.exit, so tests can run them in-process. */
export interface CliState {
  exitCode: number;
}

export function buildProgram(io: CliIo, state: CliState): Command {
  const program = new Command('esp-ota')
    .description('Self-hosted OTA firmware update server for ESP32 and ESP8266 fleets')
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });
  registerServeCommand(program, io, state);
  registerInspectCommand(program, io, state);
  registerClientCommands(program, io, state);
  registerBackupCommands(program, io, state);
  registerAuthCommands(program, io, state);
  registerGroupCommands(program, io, state);
  registerRolloutCommands(program, io, state);
  registerMigrateCommand(program, io, state);
  return program;
}

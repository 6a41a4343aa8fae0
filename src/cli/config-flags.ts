import type { Command } from 'commander';
import { ConfigError, loadConfig, OPTIONS, type Config, type OptionName } from '../config.js';
import type { CliIo, CliState } from './program.js';

export function flagName(option: string): string {
  return option.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Adds `--config` and one flag per setting (or just the named ones) to a command. */
export function addConfigFlags(command: Command, only?: readonly OptionName[]): Command {
  command.option('--config <file>', 'YAML configuration file (or ESP_OTA_CONFIG)');
  for (const [name, spec] of Object.entries(OPTIONS)) {
    if (only && !only.includes(name as OptionName)) continue;
    command.option(`--${flagName(name)} <value>`, `${spec.description} [${spec.env}]`);
  }
  return command;
}

/** The configuration from flags, environment and file; on problems, prints them all, sets exit 2, returns undefined. */
export function configFromFlags(flags: Record<string, unknown>, io: CliIo, state: CliState): Config | undefined {
  const { config: file, ...rest } = flags;
  const values = Object.fromEntries(
    Object.entries(rest).filter(([name, v]) => v !== undefined && name in OPTIONS),
  ) as Partial<Record<OptionName, string>>;
  try {
    return loadConfig({ flags: values, file: typeof file === 'string' ? file : undefined });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err.write(`${error.message}\n`);
    state.exitCode = 2;
    return undefined;
  }
}

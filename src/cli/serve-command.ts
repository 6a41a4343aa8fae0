import type { Command } from 'commander';
import { ConfigError, loadConfig, OPTIONS, type OptionName } from '../config.js';
import { createApp } from '../compose.js';
import type { CliIo, CliState } from './program.js';

export function flagName(option: string): string {
  return option.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export function registerServeCommand(program: Command, io: CliIo, state: CliState): void {
  const serve = program
    .command('serve')
    .description('run the update server (SQLite in the data folder unless --database-url names PostgreSQL)')
    .option('--config <file>', 'YAML configuration file (or ESP_OTA_CONFIG)');
  // One flag per setting, from the same table as the YAML keys and environment variables.
  for (const [name, spec] of Object.entries(OPTIONS)) {
    serve.option(`--${flagName(name)} <value>`, `${spec.description} [${spec.env}]`);
  }
  serve.action(async (flags: Record<string, string | undefined>) => {
    const { config: file, ...rest } = flags;
    let config;
    try {
      const values = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<
        Record<OptionName, string>
      >;
      config = loadConfig({ flags: values, file });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.err.write(`${error.message}\n`);
      state.exitCode = 2;
      return;
    }
    const app = await createApp(config);
    const address = await app.listen();
    app.http.log.info(
      { address, data: config.data, database: config.databaseUrl ? 'postgresql' : 'sqlite' },
      'esp-ota-server listening',
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        app.http.log.info({ signal }, 'shutting down: finishing downloads and flushing events');
        void app.close().then(resolve, (err: unknown) => {
          app.http.log.error({ err }, 'error while shutting down');
          state.exitCode = 1;
          resolve();
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  });
}

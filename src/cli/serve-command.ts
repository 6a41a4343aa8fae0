import type { Command } from 'commander';
import { ConfigError, loadConfig, type OptionName } from '../config.js';
import { createApp } from '../compose.js';
import type { CliIo, CliState } from './program.js';

interface ServeFlags {
  port?: string;
  host?: string;
  data?: string;
  config?: string;
  databaseUrl?: string;
  logLevel?: string;
}

export function registerServeCommand(program: Command, io: CliIo, state: CliState): void {
  program
    .command('serve')
    .description('run the update server (SQLite in the data folder unless --database-url names PostgreSQL)')
    .option('--port <port>', 'TCP port (default 8080)')
    .option('--host <address>', 'address to listen on (default 0.0.0.0)')
    .option('--data <dir>', 'data folder (default ./data)')
    .option('--database-url <url>', 'postgres://… for PostgreSQL')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--config <file>', 'YAML configuration file')
    .action(async (flags: ServeFlags) => {
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

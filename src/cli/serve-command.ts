import type { Command } from 'commander';
import { createApp } from '../compose.js';
import { addConfigFlags, configFromFlags } from './config-flags.js';
import type { CliIo, CliState } from './program.js';

export function registerServeCommand(program: Command, io: CliIo, state: CliState): void {
  const serve = program
    .command('serve')
    .description('run the update server (SQLite in the data folder unless --database-url names PostgreSQL)');
  // One flag per setting, from the same table as the YAML keys and environment variables.
  addConfigFlags(serve);
  serve.action(async (flags: Record<string, string | undefined>) => {
    const config = configFromFlags(flags, io, state);
    if (!config) return;
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
      process.on('SIGHUP', () => {
        try {
          app.http.log.info({ reloaded: app.reloadTls() }, 'SIGHUP: TLS certificate re-read');
        } catch (err) {
          app.http.log.error({ err }, 'SIGHUP: could not re-read the TLS certificate; keeping the old one');
        }
      });
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  });
}

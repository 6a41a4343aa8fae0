import type { Command } from 'commander';
import type { App } from '../compose.js';
import { addConfigFlags, configFromFlags } from './config-flags.js';
import { EXIT } from './exit-codes.js';
import type { CliIo, CliState } from './program.js';
import { explainListenFailure, explainStartFailure, prepareDataFolder } from './serve-failures.js';

export function registerServeCommand(program: Command, io: CliIo, state: CliState): void {
  const serve = program
    .command('serve')
    .description('run the update server (SQLite in the data folder unless --database-url names PostgreSQL)');
  // One flag per setting, from the same table as the YAML keys and environment variables.
  addConfigFlags(serve);
  serve.action(async (flags: Record<string, string | undefined>) => {
    const config = configFromFlags(flags, io, state);
    if (!config) return;
    const refuse = (sentence: string) => {
      io.err.write(`esp-ota serve: ${sentence}\n`);
      state.exitCode = EXIT.failed;
    };
    const folderProblem = prepareDataFolder(config.data);
    if (folderProblem) return refuse(folderProblem);
    const { createApp } = await import('../compose.js'); // loaded here: the other commands start faster without it
    let app: App;
    try {
      app = await createApp(config);
    } catch (error) {
      const sentence = explainStartFailure(error, config);
      if (!sentence) throw error;
      return refuse(sentence);
    }
    let address: string;
    try {
      address = await app.listen();
    } catch (error) {
      await app.close().catch(() => undefined);
      const sentence = explainListenFailure(error, config);
      if (!sentence) throw error;
      return refuse(sentence);
    }
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

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { databaseFile } from '../config.js';
import { pino } from 'pino';
import { createDatabase } from '../db/database.js';
import { moveToPostgres, MoveRefused } from '../features/backup/move-to-postgres.js';
import { systemClock } from '../lib/clock.js';
import { openStorage } from '../storage.js';
import { addConfigFlags, configFromFlags } from './config-flags.js';
import type { CliIo, CliState } from './program.js';

/** The URL as it may be printed: without its password. */
function shown(url: URL): string {
  const copy = new URL(url);
  if (copy.password) copy.password = '***';
  return copy.toString();
}

/** `esp-ota migrate --to postgres://…`: moves the embedded data folder into an empty PostgreSQL database or schema. */
export function registerMigrateCommand(program: Command, io: CliIo, state: CliState): void {
  addConfigFlags(
    program
      .command('migrate')
      .description(
        'move the embedded data folder (SQLite and firmware files) into an empty PostgreSQL database; stop the server first',
      )
      .requiredOption('--to <url>', 'the PostgreSQL database to move into, e.g. postgres://user@host:5432/esp_ota'),
    ['data'],
  ).action(async (flags: Record<string, string>) => {
    const config = configFromFlags(flags, io, state);
    if (!config) return;
    let to: URL;
    try {
      to = new URL(flags.to!);
      if (to.protocol !== 'postgres:' && to.protocol !== 'postgresql:') throw new Error('not postgres');
    } catch {
      io.err.write('--to must be a PostgreSQL URL such as postgres://user@host:5432/esp_ota\n');
      state.exitCode = 2;
      return;
    }
    if (config.databaseUrl) {
      io.err.write('the configuration already names a PostgreSQL database (databaseUrl): nothing to move from\n');
      state.exitCode = 2;
      return;
    }
    if (!existsSync(databaseFile(config))) {
      io.err.write(`there is no embedded database in ${config.data} (no ${databaseFile(config)})\n`);
      state.exitCode = 2;
      return;
    }
    const source = await openStorage(config, pino({ level: 'warn' }), systemClock);
    const target = createDatabase({ kind: 'postgres', url: to.toString(), poolSize: 2 });
    try {
      io.out.write(`moving ${config.data} into ${shown(to)}\n`);
      const report = await moveToPostgres(source.db, source.blobs, target, (line) => io.out.write(`  ${line}\n`));
      const rows = report.tables.reduce((n, t) => n + t.rows, 0);
      io.out.write(
        `moved and verified ${rows} rows in ${report.tables.length} tables and ${report.blobs} firmware files ` +
          `(${report.blobBytes} bytes; counts and SHA-256 digests match)\n\n` +
          'Now point every instance at PostgreSQL and start it again:\n' +
          `  databaseUrl: ${shown(to)}   (or ESP_OTA_DATABASE_URL, or --database-url)\n` +
          '  data: keep a folder per instance; it holds only uploads in progress from now on\n' +
          `The data folder's esp-ota.sqlite and blobs/ are no longer read; keep them until you have checked the server.\n`,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      io.err.write(`${error instanceof MoveRefused ? 'refused' : 'the move failed and was rolled back'}: ${message}\n`);
      state.exitCode = 1;
    } finally {
      await target.destroy();
      await source.db.destroy();
    }
  });
}

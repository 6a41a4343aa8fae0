import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { databaseFile, type Config } from '../config.js';
import type { Storage } from '../storage.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo } from './program.js';

/** `--init` on the commands that open the data folder or database themselves. */
export function withInit(command: Command): Command {
  return command.option('--init', 'create a new, empty data folder or database if there is none');
}

/** A database URL fit to print: the password replaced. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function hasSchema(url: string): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('platforms') IS NOT NULL AS present");
    return rows[0]?.present === true;
  } catch (error) {
    throw new CliError(
      `cannot open the PostgreSQL database ${redactedUrl(url)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check --database-url and that the server runs`,
      EXIT.unreachable,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Opens the server's storage for an offline command (token, user, export, import, import-legacy). It says on stderr
 * which data folder or database it used, and refuses to make a new empty one unless `init`: a token created in a
 * stray ./data would be one the running server has never heard of.
 */
export async function openDataStorage(config: Config, io: CliIo, init: boolean): Promise<Storage> {
  if (config.databaseUrl) {
    io.err.write(`database: PostgreSQL ${redactedUrl(config.databaseUrl)} (data folder ${config.data})\n`);
    if (!init && !(await hasSchema(config.databaseUrl))) {
      throw new CliError(
        `the PostgreSQL database ${redactedUrl(config.databaseUrl)} has no esp-ota tables: check --database-url, or pass --init to set up a new one`,
        EXIT.usage,
      );
    }
  } else {
    const file = databaseFile(config);
    io.err.write(`data folder: ${config.data} (SQLite ${file})\n`);
    if (!init && !existsSync(file)) {
      throw new CliError(
        `there is no esp-ota database in ${config.data}: give the server’s data folder with --data (or ESP_OTA_DATA, ` +
          'or data: in the config file), or pass --init to start a new one there',
        EXIT.usage,
      );
    }
  }
  const [{ openStorage }, { pino }, { systemClock }] = await Promise.all([
    import('../storage.js'),
    import('pino'),
    import('../lib/clock.js'),
  ]);
  try {
    return await openStorage(config, pino({ level: 'warn' }), systemClock);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError(`cannot open the database of ${config.data} (${code})`, EXIT.failed);
  }
}

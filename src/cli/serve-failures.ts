import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseFile, type Config } from '../config.js';
import { makeFolder } from '../lib/make-folder.js';
import { redactedUrl } from './data-folder.js';

/**
 * Why `esp-ota serve` could not start, in one sentence that names the path or port and what to do, instead of a
 * stack trace (or, for a data folder under /proc, a silent busy loop).
 */

const codeOf = (error: unknown) =>
  (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));

/** Creates the data folder if missing and proves it writable; the problem as a sentence, or undefined. */
export function prepareDataFolder(folder: string): string | undefined {
  const elsewhere = 'or choose another with --data or ESP_OTA_DATA';
  try {
    makeFolder(folder);
  } catch (error) {
    return `cannot create the data folder ${folder} (${codeOf(error)}): create it yourself, ${elsewhere}`;
  }
  const probe = join(folder, `.esp-ota-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    return `cannot write in the data folder ${folder} (${codeOf(error)}): give the server’s user write access to it, ${elsewhere}`;
  }
  return undefined;
}

const PG_CONNECTION = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

/** A failure of createApp explained, or undefined when it is none of the known kinds (then it is a bug: rethrow). */
export function explainStartFailure(error: unknown, config: Config): string | undefined {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  // The migrator wraps the driver's error; its text is what says why.
  const migration = /^database migration\s*\S*\s*failed: (.*)$/s.exec(message);
  if (config.databaseUrl) {
    const url = redactedUrl(config.databaseUrl);
    if (PG_CONNECTION.has(code) || /^(28|3D|08)/.test(code) || migration)
      return `cannot open the PostgreSQL database ${url} (${migration ? migration[1] : code === message ? code : `${code}: ${message}`}): check --database-url or ESP_OTA_DATABASE_URL, and that PostgreSQL runs and accepts this user`;
    return undefined;
  }
  const file = databaseFile(config);
  if (code.startsWith('SQLITE_') || migration)
    return `cannot open the database ${file} (${code}: ${message}): if it is damaged, move it aside and restore a backup with esp-ota import, or choose another data folder with --data`;
  if (message.startsWith('cannot read the TLS') || message.startsWith('HTTPS needs')) return message;
  return undefined;
}

/** A failure to listen explained, or undefined. */
export function explainListenFailure(error: unknown, config: Config): string | undefined {
  const e = error as NodeJS.ErrnoException & { port?: number; address?: string };
  const port = e.port ?? config.port;
  const host = e.address ?? config.host;
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (EADDRINUSE): stop what uses it (another esp-ota serve?), or choose another port with --port or ESP_OTA_PORT`;
    case 'EACCES':
      return `not allowed to listen on port ${port} (EACCES): ports below 1024 need privileges; choose another with --port or ESP_OTA_PORT`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine (EADDRNOTAVAIL): choose another with --host or ESP_OTA_HOST`;
    default:
      return undefined;
  }
}

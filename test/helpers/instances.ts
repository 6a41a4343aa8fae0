import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp, type App } from '../../src/compose.js';
import { LISTENER_APPLICATION_NAME } from '../../src/db/notifications.js';
import { TEST_ADMIN_PASSWORD, TEST_TOKEN } from './http.js';
import { createPgDatabase } from './test-app.js';

export interface Instance {
  app: App;
  url: string;
  dir: string;
}

/** Several apps in this process, each with its own empty data folder, on one new PostgreSQL database. */
export async function startInstances(
  count: number,
  overrides: Partial<Config> = {},
  loggers: (i: number) => Logger = () => pino({ level: 'silent' }),
): Promise<{ instances: Instance[]; databaseUrl: string; stop: () => Promise<void> }> {
  const database = await createPgDatabase();
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const dir = mkdtempSync(join(tmpdir(), `esp-ota-instance-${i}-`));
    const config: Config = {
      ...loadConfig({ env: {} }),
      port: 0,
      host: '127.0.0.1',
      data: dir,
      databaseUrl: database.url,
      eventFlushMs: 50,
      apiToken: TEST_TOKEN,
      adminPassword: TEST_ADMIN_PASSWORD,
      ...overrides,
    };
    const app = await createApp(config, { logger: loggers(i) });
    instances.push({ app, url: await app.listen(), dir });
  }
  return {
    instances,
    databaseUrl: database.url,
    stop: async () => {
      for (const instance of instances) {
        await instance.app.close();
        rmSync(instance.dir, { recursive: true, force: true });
      }
      await database.drop();
    },
  };
}

/** Runs a query on a connection of its own (not any app's pool). */
export async function onDatabase<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function listenerCount(url: string): Promise<number> {
  const rows = await onDatabase<{ n: string }>(
    url,
    `select count(*) as n from pg_stat_activity where datname = current_database() and application_name = $1`,
    [LISTENER_APPLICATION_NAME],
  );
  return Number(rows[0]!.n);
}

/** Polls `probe` every `everyMs` until it returns true; resolves to the milliseconds it took, or rejects. */
export async function within(
  timeoutMs: number,
  probe: () => Promise<boolean> | boolean,
  everyMs = 10,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createApp, type App } from '../src/compose.js';
import { buildEsp32App } from './synthetic/image-builder.js';
import { api, TEST_ADMIN_PASSWORD, TEST_TOKEN } from './helpers/http.js';
import { createPgDatabase, PG_SKIP_REASON, PG_URL } from './helpers/test-app.js';

/** Two instances, each with its own (empty) data folder, sharing one PostgreSQL database: no state of their own. */
describe.skipIf(!PG_URL)(`several instances on one PostgreSQL database ${PG_URL ? '' : `— ${PG_SKIP_REASON}`}`, () => {
  const instances: { app: App; url: string; dir: string }[] = [];
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const pg = await createPgDatabase();
    drop = pg.drop;
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), `esp-ota-instance-${i}-`));
      const config = {
        ...loadConfig({ env: {} }),
        port: 0,
        host: '127.0.0.1',
        data: dir,
        databaseUrl: pg.url,
        catalogueRefreshMs: 100,
        eventFlushMs: 50,
        apiToken: TEST_TOKEN,
        adminPassword: TEST_ADMIN_PASSWORD,
      };
      const app = await createApp(config, { logger: pino({ level: 'silent' }) });
      instances.push({ app, url: await app.listen(), dir });
    }
  });
  afterAll(async () => {
    for (const instance of instances) {
      await instance.app.close();
      rmSync(instance.dir, { recursive: true, force: true });
    }
    await drop();
  });

  it('serves from one instance what was uploaded through the other', async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    await api(a.url, 'POST', '/api/v1/platforms', { name: 'Shared', accessMode: 'open' });
    const image = buildEsp32App({ descriptor: { projectName: 'Shared', version: '4.0.0' } });
    expect((await api(a.url, 'POST', '/api/v1/firmware', image)).status).toBe(201);

    await new Promise((r) => setTimeout(r, 250)); // b re-reads its catalogue after catalogueRefreshMs
    await fetch(`${b.url}/update?dev=Shared&ver=3.0.0`, { headers: { 'x-esp32-sta-mac': '24:0A:C4:00:00:01' } }); // starts the refresh
    await new Promise((r) => setTimeout(r, 50));
    const response = await fetch(`${b.url}/update?dev=Shared&ver=3.0.0`, {
      headers: { 'x-esp32-sta-mac': '24:0A:C4:00:00:01' },
    });
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    expect(createHash('md5').update(body).digest('hex')).toBe(response.headers.get('x-md5'));
    expect(Buffer.compare(body, image)).toBe(0);
  });
});

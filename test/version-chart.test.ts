import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, type App } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp8266Request, loginSession, rawRequest, TEST_ADMIN_PASSWORD, TEST_TOKEN } from './helpers/http.js';
import { createPgDatabase, describeEachStore, type StoreKind } from './helpers/test-app.js';

const image = (version: string) =>
  buildEsp8266App({ strings: [`ESP-OTA:platform=Chart;version=${version}`, 'c'.repeat(3000)] });

/** Issue 12 §4: the platform page draws devices per version over time from samples the fleet writes. */
describeEachStore('the platform page chart of devices per version', (store: StoreKind) => {
  let app: App;
  let url: string;
  let cleanup: () => Promise<void>;
  let now = Date.now();

  beforeAll(async () => {
    const data = mkdtempSync(join(tmpdir(), 'esp-ota-chart-'));
    const pgDb = store === 'postgres' ? await createPgDatabase() : undefined;
    app = await createApp(
      {
        ...loadConfig({ env: {} }),
        port: 0,
        host: '127.0.0.1',
        data,
        databaseUrl: pgDb?.url ?? '',
        eventFlushMs: 50,
        apiToken: TEST_TOKEN,
        adminPassword: TEST_ADMIN_PASSWORD,
      },
      { logger: pino({ level: 'silent' }), clock: { now: () => now } },
    );
    url = await app.listen();
    cleanup = async () => {
      await app.close();
      await pgDb?.drop();
      rmSync(data, { recursive: true, force: true });
    };
  });
  afterAll(() => cleanup());

  const check = (mac: string, version: string) =>
    rawRequest(url, esp8266Request(new URL(url).host, `/update?dev=Chart&ver=${version}`, { mac, version }));

  it('shows the versions devices ran at each sample, with today’s counts in the legend', async () => {
    await api(url, 'POST', '/api/v1/platforms', { name: 'Chart', accessMode: 'open' });
    expect((await api(url, 'POST', '/api/v1/firmware', image('1.0.0'))).status).toBe(201);
    for (const mac of ['5C:CF:7F:00:00:01', '5C:CF:7F:00:00:02', '5C:CF:7F:00:00:03'])
      expect((await check(mac, '1.0.0')).status).toBe(304);
    expect(await app.fleet.sampleVersions()).toBe(1);

    expect((await api(url, 'POST', '/api/v1/firmware', image('1.1.0'))).status).toBe(201);
    expect((await check('5C:CF:7F:00:00:01', '1.1.0')).status).toBe(304);
    now += 3 * 3_600_000;
    expect(await app.fleet.sampleVersions()).toBe(2);

    const { cookie } = await loginSession(url);
    const page = await fetch(`${url}/platforms/Chart`, { headers: { cookie } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('aria-label="Devices per version over time"');
    expect(html.match(/<path /g)).toHaveLength(2);
    expect(html).toContain('1.1.0 (1)');
    expect(html).toContain('1.0.0 (2)');
    expect(html).toContain('3 h ago');
  });
});

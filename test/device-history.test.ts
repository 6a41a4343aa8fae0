import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, type App } from '../src/compose.js';
import { loadConfig, type Config } from '../src/config.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp8266Request, rawRequest, TEST_ADMIN_PASSWORD, TEST_TOKEN, type DeviceFacts } from './helpers/http.js';
import { createPgDatabase, describeEachStore, type StoreKind } from './helpers/test-app.js';

interface EventJson {
  type: string;
  fromVersion: string | null;
  toVersion: string | null;
  decision: string;
  reason: string;
  occurrences: number;
}

const image = (version: string) =>
  buildEsp8266App({ strings: [`ESP-OTA:platform=History;version=${version}`, 'h'.repeat(3000)] });

/**
 * Issue 13 §1: the event log holds what a person wants in a history — first seen, the running image changing, the
 * answer changing, downloads, refusals (folded), never one row per unchanged check — and counts and last-seen stay
 * exact. The state survives a restart.
 */
describeEachStore('a device history of changes, not heartbeats', (store: StoreKind) => {
  let app: App;
  let url: string;
  let config: Config;
  let cleanup: () => Promise<void>;
  /** The server's clock, moved by hand where the test needs time to pass. */
  let now = Date.now();
  const clock = { now: () => now };

  const start = async () => {
    app = await createApp(config, { logger: pino({ level: 'silent' }), clock });
    url = await app.listen();
  };

  beforeAll(async () => {
    const data = mkdtempSync(join(tmpdir(), 'esp-ota-history-'));
    const pgDb = store === 'postgres' ? await createPgDatabase() : undefined;
    config = {
      ...loadConfig({ env: {} }),
      port: 0,
      host: '127.0.0.1',
      data,
      databaseUrl: pgDb?.url ?? '',
      eventFlushMs: 50,
      refusalEventIntervalMs: 60_000,
      apiToken: TEST_TOKEN,
      adminPassword: TEST_ADMIN_PASSWORD,
    };
    cleanup = async () => {
      await app.close();
      await pgDb?.drop();
      rmSync(data, { recursive: true, force: true });
    };
    await start();
    await api(url, 'POST', '/api/v1/platforms', { name: 'History', accessMode: 'allowlist' });
    await api(url, 'POST', '/api/v1/platforms/History/allowlist', { mac: '5C:CF:7F:00:00:01' });
    expect((await api(url, 'POST', '/api/v1/firmware', image('1.0.0'))).status).toBe(201);
  });
  afterAll(() => cleanup());

  const check = (facts: DeviceFacts) =>
    rawRequest(url, esp8266Request(new URL(url).host, `/update?dev=History&ver=${facts.version ?? ''}`, facts));
  /** The device's own events (a person's changes that name it, such as allowing it, are left out). */
  const history = async (mac: string) => {
    await app.flushActivity();
    const events = (await api<{ events: EventJson[] }>(url, 'GET', `/api/v1/events?mac=${mac}`)).json.events;
    return events.filter((e) => e.type !== 'device-allowed');
  };
  const device = async (mac: string) => {
    await app.flushActivity();
    const devices = (
      await api<{ devices: { mac: string; checks: number; downloads: number }[] }>(url, 'GET', '/api/v1/devices')
    ).json.devices;
    return devices.find((d) => d.mac === mac);
  };
  const listed = { mac: '5C:CF:7F:00:00:01' };

  it('writes one event for a device checking twenty times with nothing changing, and counts every check', async () => {
    for (let i = 0; i < 20; i++) expect((await check({ ...listed, version: '1.0.0' })).status).toBe(304);
    const events = await history(listed.mac);
    expect(events.map((e) => [e.type, e.decision, e.reason])).toEqual([['first-seen', 'not-modified', 'current']]);
    expect(await device(listed.mac)).toMatchObject({ checks: 20, downloads: 0 });
  });

  it('writes the running image changing (from → to), and one event per download', async () => {
    expect((await api(url, 'POST', '/api/v1/firmware', image('1.1.0'))).status).toBe(201);
    expect((await check({ ...listed, version: '1.0.0' })).status).toBe(200);
    expect((await check({ ...listed, version: '1.0.0' })).status).toBe(200); // the install failed; it asks again
    expect((await check({ ...listed, version: '1.1.0' })).status).toBe(304);
    expect((await check({ ...listed, version: '1.1.0' })).status).toBe(304);
    const events = await history(listed.mac);
    expect(events.slice(0, 3).map((e) => [e.type, e.fromVersion, e.toVersion])).toEqual([
      ['image-changed', '1.0.0', '1.1.0'],
      ['download', '1.0.0', '1.1.0'],
      ['download', '1.0.0', '1.1.0'],
    ]);
    expect(await device(listed.mac)).toMatchObject({ checks: 24, downloads: 2 });
  });

  it('writes a refusal once, then folds repeated refusals into the next event with their count', async () => {
    const stranger = { mac: '5C:CF:7F:00:00:99', version: '1.0.0' };
    for (let i = 0; i < 5; i++) expect((await check(stranger)).status).toBe(403);
    // The first refusal is its first-seen event; the next four within the interval are folded, not written.
    expect((await history(stranger.mac)).map((e) => [e.type, e.reason, e.occurrences])).toEqual([
      ['first-seen', 'not-allowed', 1],
    ]);
    expect(await device(stranger.mac)).toMatchObject({ checks: 5 });
    // A minute later (the interval here) it is still refused: one event, carrying the four folded refusals and itself.
    now += 60_001;
    expect((await check(stranger)).status).toBe(403);
    expect((await history(stranger.mac)).map((e) => [e.type, e.reason, e.occurrences])).toEqual([
      ['refused', 'not-allowed', 5],
      ['first-seen', 'not-allowed', 1],
    ]);
  });

  it('moves device statuses with the release, without waiting for the devices to check', async () => {
    const status = async (mac: string) => {
      await app.view.all(); // a change invalidated the view: reloading it starts the status pass
      await app.fleet.settled();
      await app.flushActivity();
      const { devices } = (await api<{ devices: { mac: string; status: string }[] }>(url, 'GET', '/api/v1/devices'))
        .json;
      return devices.find((d) => d.mac === mac)?.status;
    };
    expect(await status(listed.mac)).toBe('current');
    expect((await api(url, 'POST', '/api/v1/firmware', image('1.2.0'))).status).toBe(201);
    expect(await status(listed.mac)).toBe('outdated');
  });

  it('keeps every device and its state across a restart: no device is "first seen" twice', async () => {
    await app.close();
    await start();
    expect((await check({ ...listed, version: '1.2.0' })).status).toBe(304);
    const events = await history(listed.mac);
    expect(events.filter((e) => e.type === 'first-seen')).toHaveLength(1);
    // It ran 1.1.0 before the restart: the registry remembered, so this check is a change from there.
    expect([events[0]!.type, events[0]!.fromVersion, events[0]!.toVersion]).toEqual([
      'image-changed',
      '1.1.0',
      '1.2.0',
    ]);
    expect(await device(listed.mac)).toMatchObject({ checks: 25 });
  });
});

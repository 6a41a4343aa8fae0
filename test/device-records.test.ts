import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { api, AUTH, esp8266Request, rawRequest, type DeviceFacts } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

interface EventJson {
  type: string;
  decision: string;
  reason: string;
  status: number | null;
  platform: string;
}
interface DeviceJson {
  mac: string;
  platform: string;
  version: string | null;
  checks: number;
  downloads: number;
  downloadsOfRelease: number;
  lastDecision: string;
  lastReason: string;
  lastSeenAt: string;
  freeSpace: number | null;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const SECRET = 'guarded-platform-secret-0123';

/**
 * What the inventory and the event log say must be what devices were sent: one download per install however the
 * client fetches it, refusals that cannot rewrite a device, and filters that apply before the page is cut.
 */
describeEachStore('device records (issue 11)', (store) => {
  let t: TestApp;
  let host: string;
  const idfImage = buildEsp32App({
    descriptor: { projectName: 'Idf', version: '5.0.0' },
    extraSegments: [{ loadAddress: 0x400d0020, data: Buffer.alloc(300_000, 0x3c) }],
  });

  beforeAll(async () => {
    t = await startTestApp(store);
    host = new URL(t.url).host;
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Idf', accessMode: 'open' });
    expect((await api(t.url, 'POST', '/api/v1/firmware', idfImage)).status).toBe(201);
  });
  afterAll(() => t.stop());

  async function eventsOf(mac: string): Promise<EventJson[]> {
    await t.app.flushActivity();
    const { json } = await api<{ events: EventJson[] }>(
      t.url,
      'GET',
      `/api/v1/events?mac=${encodeURIComponent(mac)}&limit=1000`,
    );
    return json.events;
  }
  async function deviceRow(mac: string): Promise<DeviceJson | undefined> {
    await t.app.flushActivity();
    const { json } = await api<{ devices: DeviceJson[] }>(t.url, 'GET', '/api/v1/devices?limit=5000');
    return json.devices.find((d) => d.mac === mac);
  }
  const direct = (mac: string, method = 'GET', extra = '') =>
    rawRequest(
      t.url,
      `${method} /ota/Idf/app.bin?mac=${mac} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ESP32 HTTP Client/1.0\r\n${extra}Connection: close\r\n\r\n`,
    );
  const arduino = (platform: string, facts: DeviceFacts) =>
    rawRequest(t.url, esp8266Request(host, `/update?dev=${platform}&ver=${facts.version ?? ''}`, facts));

  it('issue 11: a download in 64 KiB ranges (esp_https_ota partial download) is one download; its HEAD is a check', async () => {
    const mac = '24:0A:C4:00:00:10';
    const size = idfImage.length;
    const head = await direct(mac, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toEqual([String(size)]);
    const parts: Buffer[] = [];
    for (let start = 0; start < size; start += 65_536) {
      // As the IDF computes them: the first end may be one past the last byte, and the last range is open.
      const range = start + 65_536 >= size ? `bytes=${start}-` : `bytes=${start}-${start + 65_536}`;
      const part = await direct(mac, 'GET', `Range: ${range}\r\n`);
      expect(part.status).toBe(206);
      parts.push(part.body.subarray(0, Math.min(65_536, size - start)));
    }
    expect(Buffer.concat(parts).equals(idfImage)).toBe(true);

    // Newest first: the HEAD was the device's first check; the first range started the one download; the later
    // ranges continue it and are not recorded again.
    const events = await eventsOf(mac);
    expect(events.map((e) => [e.type, e.status])).toEqual([
      ['download', 206],
      ['first-seen', 200],
    ]);
    expect(await deviceRow(mac)).toMatchObject({ checks: 2, downloads: 1, downloadsOfRelease: 1 });
  });

  it('issue 11: 304 for the ETag and 416 past the end are checks, recorded with the status sent', async () => {
    const mac = '24:0A:C4:00:00:11';
    const etag = (await direct(mac, 'HEAD')).headers.get('etag')![0]!;
    expect((await direct(mac, 'GET', `If-None-Match: ${etag}\r\n`)).status).toBe(304);
    expect((await direct(mac, 'GET', `Range: bytes=${idfImage.length}-\r\n`)).status).toBe(416);
    const whole = await direct(mac);
    expect(whole.status).toBe(200);

    // Each answer differs from the one before, so each is in the history (issue 13: changes, not heartbeats).
    const events = await eventsOf(mac);
    expect(events.map((e) => [e.type, e.status, e.decision, e.reason])).toEqual([
      ['download', 200, 'serve', 'direct-download'],
      ['check', 416, 'serve', 'direct-download'],
      ['check', 304, 'not-modified', 'current'],
      ['first-seen', 200, 'serve', 'direct-download'],
    ]);
    expect(await deviceRow(mac)).toMatchObject({ checks: 4, downloads: 1, lastDecision: 'serve' });
  });

  it('issue 11: "still asks after downloading 3 times" counts downloads of the released image, not of the device\'s life', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Sticky', accessMode: 'open' });
    const release = async (version: string) =>
      expect(
        (
          await api(
            t.url,
            'POST',
            '/api/v1/firmware',
            buildEsp8266App({ strings: [`ESP-OTA:platform=Sticky;version=${version}`] }),
          )
        ).status,
      ).toBe(201);
    const mac = '5C:CF:7F:00:01:01';
    const dashboardLists = async () => {
      await t.app.flushActivity();
      const page = await fetch(`${t.url}/`, { headers: AUTH });
      expect(page.status).toBe(200);
      const html = await page.text();
      // The "Needs attention" section only: the latest events further down name the device too.
      const attention = html.slice(html.indexOf('id="attention"'), html.indexOf('id="latest"'));
      expect(attention).toContain('Needs attention');
      return attention.includes(mac);
    };
    const download = async () => expect((await arduino('Sticky', { mac, version: '1.0.0' })).status).toBe(200);

    await release('1.1.0');
    await download();
    await download();
    await release('1.2.0');
    await download();
    expect(await deviceRow(mac)).toMatchObject({ downloads: 3, downloadsOfRelease: 1, lastDecision: 'serve' });
    expect(await dashboardLists()).toBe(false);

    await download();
    await download();
    expect(await deviceRow(mac)).toMatchObject({ downloads: 5, downloadsOfRelease: 3 });
    expect(await dashboardLists()).toBe(true);

    // A newer release, which the device has only asked about (HEAD): its three downloads were of the old one.
    await release('1.3.0');
    const head = esp8266Request(host, '/update?dev=Sticky&ver=1.0.0', { mac, version: '1.0.0' }).replace(
      /^GET /,
      'HEAD ',
    );
    expect((await rawRequest(t.url, head)).status).toBe(200);
    expect(await deviceRow(mac)).toMatchObject({ downloads: 5, downloadsOfRelease: 3, lastDecision: 'serve' });
    expect(await dashboardLists()).toBe(false);
  });

  it('issue 11: refusals before authentication cannot rewrite a known device (401, 403 bad credentials, 404)', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', {
      name: 'Guarded',
      accessMode: 'open',
      deviceAuth: 'basic',
      deviceUser: 'fleet',
      deviceSecret: SECRET,
    });
    await api(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Guarded;version=2.0.0'] }),
    );
    const mac = '5C:CF:7F:00:02:02';
    const known = await arduino('Guarded', { mac, version: '2.0.0', authorization: basic('fleet', SECRET) });
    expect(known.status).toBe(304);
    const before = await deviceRow(mac);
    expect(before).toMatchObject({ platform: 'Guarded', version: '2.0.0', lastDecision: 'not-modified', checks: 1 });

    const spoofed = { mac, version: '0.0.1', freeSpace: 1234 };
    expect((await arduino('Guarded', spoofed)).status).toBe(401);
    expect((await arduino('Guarded', { ...spoofed, authorization: basic('fleet', 'wrong-secret-0000') })).status).toBe(
      403,
    );
    expect((await arduino('Elsewhere', spoofed)).status).toBe(404);

    expect(await deviceRow(mac)).toEqual(before);
    // The attempts are in the event log, with the MAC they claimed.
    expect((await eventsOf(mac)).map((e) => [e.reason, e.status])).toEqual([
      ['unknown-platform', 404],
      ['bad-credentials', 403],
      ['auth-required', 401],
      ['current', 304],
    ]);
  });

  it('issue 11: ?outdated=true filters before the limit', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Aging', accessMode: 'open' });
    await api(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Aging;version=3.0.0'] }),
    );
    const macOf = (n: number) => `5C:CF:7F:00:03:${String(n).padStart(2, '0')}`;
    const pause = () => new Promise((r) => setTimeout(r, 3)); // distinct last-seen times, so the order is defined
    // The outdated devices checked first; five current ones (some reporting `v3.0.0`, the same version) after them.
    for (const n of [1, 2]) {
      // Offered 3.0.0 (status `outdated`); a refused device is listed under ?status=refused instead.
      expect((await arduino('Aging', { mac: macOf(n), version: '2.9.0' })).status).toBe(200);
      await pause();
    }
    for (const n of [3, 4, 5, 6, 7]) {
      expect((await arduino('Aging', { mac: macOf(n), version: n % 2 ? 'v3.0.0' : '3.0.0' })).status).toBe(304);
      await pause();
    }
    await t.app.flushActivity();
    const outdated = async (limit: number) =>
      (
        await api<{ devices: DeviceJson[] }>(
          t.url,
          'GET',
          `/api/v1/devices?platform=Aging&outdated=true&limit=${limit}`,
        )
      ).json.devices.map((d) => d.mac);
    expect(await outdated(3)).toEqual([macOf(2), macOf(1)]);
    expect(await outdated(1)).toEqual([macOf(2)]);
  });
});

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp32Request, esp8266Request, rawRequest } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';
import { CORPUS_AVAILABLE, readFirmware } from './helpers/firmware-corpus.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const sketchV1 = buildEsp8266App({ strings: ['ESP-OTA:platform=AirPatrol;version=1.0.0'] });
const sketchV2 = buildEsp8266App({ strings: ['ESP-OTA:platform=AirPatrol;version=1.1.0', 'padding'.repeat(50)] });
const esp32App = buildEsp32App({ chipId: 9, descriptor: { projectName: 'Greenhouse', version: '2.0.0' } });
const DEVICE = 'DE:BA:7A:B1:E0:42';

describeEachStore('device protocol', (store) => {
  let t: TestApp;
  let host: string;
  const update = (query: string, facts = {}) => rawRequest(t.url, esp8266Request(host, `/update?${query}`, facts));

  beforeAll(async () => {
    t = await startTestApp(store);
    host = new URL(t.url).host;
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'AirPatrol' });
    await api(t.url, 'POST', '/api/v1/platforms/AirPatrol/allowlist', { mac: DEVICE, label: 'hall' });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Greenhouse', accessMode: 'open' });
  });
  afterAll(() => t.stop());

  it('answers 304 for a platform with nothing released yet', async () => {
    const response = await update('dev=AirPatrol&ver=v1.0.0');
    expect(response.status).toBe(304);
    expect(response.headers.get('x-ota-reason')).toEqual(['nothing-released']);
    expect(response.body.length).toBe(0);
  });

  it('serves a newer image with exact bytes, Content-Length and one lower-case x-MD5', async () => {
    expect((await api(t.url, 'POST', '/api/v1/firmware', sketchV1)).status).toBe(201);
    expect((await api(t.url, 'POST', '/api/v1/firmware', sketchV2)).status).toBe(201);
    const response = await update('dev=AirPatrol&ver=v1.0.0', { version: 'v1.0.0' });
    expect(response.statusLine).toBe('HTTP/1.1 200 OK');
    expect(Buffer.compare(response.body, sketchV2)).toBe(0);
    expect(response.headers.get('content-length')).toEqual([String(sketchV2.length)]);
    expect(response.headers.get('x-md5')).toEqual([md5(sketchV2)]);
    expect(response.headers.get('x-sha256')).toEqual([sha256(sketchV2)]);
    expect(response.headers.get('content-type')).toEqual(['application/octet-stream']);
    expect(response.headers.get('etag')).toEqual([`"${sha256(sketchV2)}"`]);
    expect(response.headers.get('content-disposition')?.[0]).toMatch(/^attachment; filename="AirPatrol-1\.1\.0\.bin"$/);
    expect(response.headers.has('transfer-encoding')).toBe(false);
    expect(response.headers.has('content-encoding')).toBe(false);
  });

  it('answers 304 to a device on the released version, from the query alone (the original URL)', async () => {
    const request = `GET /update?dev=airpatrol&ver=v1.1.0 HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: ESP8266-http-Update\r\nx-ESP8266-STA-MAC: ${DEVICE}\r\n\r\n`;
    const response = await rawRequest(t.url, request);
    expect(response.status).toBe(304);
    expect(response.headers.get('x-ota-reason')).toEqual(['current']);
  });

  it('recognises the running image by its sketch MD5 when the device sends no version', async () => {
    const response = await update('dev=AirPatrol', { sketchMd5: md5(sketchV2) });
    expect(response.status).toBe(304);
  });

  it('recognises the running image whatever flash mode the Updater wrote into byte 2', async () => {
    const flashed = Buffer.from(sketchV2);
    flashed[2] = 0x00; // QIO on the chip, DOUT in the file
    const response = await update('dev=AirPatrol', { sketchMd5: md5(flashed) });
    expect(response.status).toBe(304);
  });

  it('does not offer a downgrade to a device running a newer version', async () => {
    const response = await update('dev=AirPatrol&ver=v9.0.0', { version: 'v9.0.0' });
    expect(response.status).toBe(304);
    expect(response.headers.get('x-ota-reason')).toEqual(['device-newer']);
  });

  it('offers an older image once a person released it on purpose (rollback)', async () => {
    const { json } = await api<{ images: { id: number; version: string }[] }>(
      t.url,
      'GET',
      '/api/v1/platforms/AirPatrol/firmware',
    );
    const old = json.images.find((i) => i.version === '1.0.0')!;
    expect((await api(t.url, 'POST', `/api/v1/firmware/${old.id}/release`)).status).toBe(200);
    const response = await update('dev=AirPatrol&ver=v1.1.0', { version: 'v1.1.0' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ota-reason')).toEqual(['rollback']);
    expect(Buffer.compare(response.body, sketchV1)).toBe(0);
    const newest = json.images.find((i) => i.version === '1.1.0')!;
    await api(t.url, 'POST', `/api/v1/firmware/${newest.id}/release`);
  });

  it('refuses a MAC that is not on the allowlist with 403', async () => {
    const response = await update('dev=AirPatrol&ver=v1.0.0', { mac: '11:22:33:44:55:66' });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-ota-reason')).toEqual(['not-allowed']);
    expect(response.body.toString()).toContain('112233445566');
  });

  it('answers 404 for an unknown platform', async () => {
    const response = await update('dev=Nope&ver=v1.0.0');
    expect(response.status).toBe(404);
    expect(response.headers.get('x-ota-reason')).toEqual(['unknown-platform']);
  });

  it('refuses an image larger than the free space the device reports', async () => {
    const response = await update('dev=AirPatrol&ver=v1.0.0', { version: 'v1.0.0', freeSpace: sketchV2.length - 1 });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-ota-reason')).toEqual(['too-large']);
  });

  it('refuses an image whose header demands more flash than the chip has', async () => {
    const response = await update('dev=AirPatrol&ver=v1.0.0', { version: 'v1.0.0', chipSize: 1024 * 1024 });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-ota-reason')).toEqual(['flash-too-small']);
  });

  it('never offers an ESP8266 image to an ESP32 (the client would flash it)', async () => {
    await api(t.url, 'PATCH', '/api/v1/platforms/AirPatrol', { accessMode: 'open' });
    const response = await rawRequest(
      t.url,
      esp32Request(host, '/update?dev=AirPatrol&ver=v1.0.0', { version: 'v1.0.0' }),
    );
    expect(response.status).toBe(403);
    expect(response.headers.get('x-ota-reason')).toEqual(['wrong-chip-family']);
    await api(t.url, 'PATCH', '/api/v1/platforms/AirPatrol', { accessMode: 'allowlist' });
  });

  it('answers filesystem modes with 304 when no filesystem image is released, never with the app', async () => {
    const response = await update('dev=AirPatrol&ver=v1.0.0', { version: 'v1.0.0', mode: 'spiffs' });
    expect(response.status).toBe(304);
  });

  it.each([
    ['no platform', '/update?ver=v1.0.0', {}, 400],
    ['a garbled MAC', '/update?dev=AirPatrol', { mac: 'not-a-mac' }, 400],
    ['a non-numeric free space', '/update?dev=AirPatrol', { freeSpace: 'lots' as unknown as number }, 400],
    ['a bad MD5', '/update?dev=AirPatrol', { sketchMd5: 'xyz' }, 400],
    ['an unknown mode', '/update?dev=AirPatrol', { mode: 'bootloader' }, 400],
    ['a repeated dev', '/update?dev=a&dev=b', {}, 400],
    // The query keeps a broken escape as typed, so it names a platform that does not exist.
    ['broken percent-encoding in the query', '/update?dev=%E0%A4%A&ver=1.0', {}, 404],
    ['broken percent-encoding in the path', '/ota/%E0%A4%A/app.bin', {}, 400],
  ])('answers %s with a plain-text reason, never 500', async (_what, uri, facts, status) => {
    const response = await rawRequest(t.url, esp8266Request(host, uri, facts));
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toEqual(['text/plain; charset=utf-8']);
    expect(response.headers.get('x-ota-reason')).toEqual([status === 400 ? 'bad-request' : 'unknown-platform']);
    expect(response.body.toString()).toMatch(/^.{5,200}\n$/);
  });

  it('leaves other methods on device paths to the web framework (404)', async () => {
    const response = await fetch(`${t.url}/update?dev=AirPatrol`, { method: 'PUT' });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('no route for PUT /update');
  });

  it('serves HEAD with the same headers and no body', async () => {
    const response = await rawRequest(
      t.url,
      `HEAD /ota/AirPatrol/app.bin?mac=${DEVICE} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toEqual([String(sketchV2.length)]);
    expect(response.headers.get('x-md5')).toEqual([md5(sketchV2)]);
    expect(response.body.length).toBe(0);
  });

  it('answers single ranges with 206 and clamped ends, and 416 past the end', async () => {
    const get = (range: string) =>
      rawRequest(
        t.url,
        `GET /ota/AirPatrol/app.bin?mac=${DEVICE} HTTP/1.1\r\nHost: ${host}\r\nRange: ${range}\r\nConnection: close\r\n\r\n`,
      );
    const partial = await get(`bytes=16-${sketchV2.length}`);
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toEqual([`bytes 16-${sketchV2.length - 1}/${sketchV2.length}`]);
    expect(Buffer.compare(partial.body, sketchV2.subarray(16))).toBe(0);
    expect((await get(`bytes=${sketchV2.length}-`)).status).toBe(416);
  });

  it('serves esp_https_ota clients the released ESP32 image, and 304 for its ETag', async () => {
    expect((await api(t.url, 'POST', '/api/v1/firmware', esp32App)).status).toBe(201);
    const request = (extra = '') =>
      rawRequest(
        t.url,
        `GET /ota/Greenhouse/app.bin HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ESP32 HTTP Client/1.0\r\n${extra}Connection: close\r\n\r\n`,
      );
    const first = await request();
    expect(first.status).toBe(200);
    expect(Buffer.compare(first.body, esp32App)).toBe(0);
    expect((await request(`If-None-Match: "${sha256(esp32App)}"\r\n`)).status).toBe(304);
  });

  it('recognises an ESP32 running the release by the appended digest it reports', async () => {
    const digest = esp32App
      .subarray(esp32App.length - 32)
      .toString('hex')
      .toUpperCase();
    const response = await rawRequest(t.url, esp32Request(host, '/update?dev=Greenhouse', { sketchSha256: digest }));
    expect(response.status).toBe(304);
    const outdated = await rawRequest(t.url, esp32Request(host, '/update?dev=Greenhouse&ver=1.9.0'));
    expect(outdated.status).toBe(200);
    expect(outdated.headers.get('x-md5')).toEqual([md5(esp32App)]);
  });

  it('records every check in the device inventory and the event log', async () => {
    await t.app.flushActivity();
    const { json } = await api<{ devices: { mac: string; checks: number; version: string; platform: string }[] }>(
      t.url,
      'GET',
      '/api/v1/devices?platform=AirPatrol',
    );
    const device = json.devices.find((d) => d.mac === DEVICE)!;
    expect(device.checks).toBeGreaterThanOrEqual(10);
    expect(device.platform).toBe('AirPatrol');
    const events = await api<{ events: { decision: string; reason: string }[] }>(
      t.url,
      'GET',
      `/api/v1/events?mac=${encodeURIComponent(DEVICE)}&limit=500`,
    );
    expect(events.json.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining([
        'nothing-released',
        'current',
        'newer-version',
        'rollback',
        'too-large',
        'direct-download',
      ]),
    );
  });
});

describe.skipIf(!CORPUS_AVAILABLE)('device protocol with real firmware', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(() => t.stop());

  it('serves the real WLED ESP8266 build byte for byte to the ESP8266 client', async () => {
    const wled = readFirmware('wled__WLED-WebInstaller__WLED_0.15.0-b2_ESP8266.bin');
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'WLED', accessMode: 'open' });
    const upload = await api<{ image: { id: number; version: string; chip: string }; released: boolean }>(
      t.url,
      'POST',
      '/api/v1/firmware',
      wled,
    );
    expect(upload.status).toBe(201);
    expect(upload.json.image).toMatchObject({ version: 'v0.15.0-b2', chip: 'esp8266' });
    // The version was read from text after "WLED", not stated by the build: kept until a person releases it.
    expect(upload.json.released).toBe(false);
    expect((await api(t.url, 'POST', `/api/v1/firmware/${upload.json.image.id}/release`)).status).toBe(200);
    const host = new URL(t.url).host;
    const response = await rawRequest(
      t.url,
      esp8266Request(host, '/update?dev=WLED&ver=v0.14.4', { version: 'v0.14.4' }),
    );
    expect(response.status).toBe(200);
    expect(Buffer.compare(response.body, wled)).toBe(0);
    expect(response.headers.get('x-md5')).toEqual([md5(wled)]);
  });
});

describeEachStore('images larger than the cache (issue 11)', (store) => {
  let t: TestApp;
  const image = buildEsp32App({
    descriptor: { projectName: 'Roomy', version: '3.0.0' },
    extraSegments: [{ loadAddress: 0x400d0020, data: Buffer.alloc(600_000, 0x5a).map((b, i) => b ^ (i * 31)) }],
  });
  beforeAll(async () => {
    t = await startTestApp(store, { imageCache: 100_000 });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Roomy', accessMode: 'open' });
    expect((await api(t.url, 'POST', '/api/v1/firmware', image)).status).toBe(201);
  });
  afterAll(() => t.stop());

  it('issue 11: streams them from storage byte for byte, whole and in ranges', async () => {
    const host = new URL(t.url).host;
    const get = (range?: string) =>
      rawRequest(
        t.url,
        `GET /ota/Roomy/app.bin HTTP/1.1\r\nHost: ${host}\r\n${range ? `Range: ${range}\r\n` : ''}Connection: close\r\n\r\n`,
      );
    const whole = await get();
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toEqual([String(image.length)]);
    expect(whole.body.equals(image)).toBe(true);
    const middle = await get('bytes=70000-400000');
    expect(middle.status).toBe(206);
    expect(middle.body.equals(image.subarray(70_000, 400_001))).toBe(true);
    const tail = await get(`bytes=${image.length - 100}-${image.length + 5000}`);
    expect(tail.headers.get('content-range')).toEqual([
      `bytes ${image.length - 100}-${image.length - 1}/${image.length}`,
    ]);
    expect(tail.body.equals(image.subarray(-100))).toBe(true);
    const arduino = await rawRequest(t.url, esp32Request(host, '/update?dev=Roomy&ver=2.0.0'));
    expect(arduino.status).toBe(200);
    expect(md5(arduino.body)).toBe(arduino.headers.get('x-md5')![0]);
  });
});

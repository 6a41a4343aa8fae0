import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp32Request, esp8266Request, rawRequest, type DeviceFacts } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Issue 15 items 4–6: Tasmota `OtaUrl`, ESP8266 gzip and the OTAdrive-style API (protocol.md §6.3–§6.5), on both
 * stores, over real sockets with the bytes the clients send.
 */
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const DEVICE = 'DE:BA:7A:B1:E0:42';
const STRANGER = 'DE:BA:7A:00:00:01';
/** Checks only the Same platform, so its pin is on that platform. */
const SAME_DEVICE = 'DE:BA:7A:00:00:77';
const sketch = (platform: string, version: string, extra: string[] = []) =>
  buildEsp8266App({ strings: [`ESP-OTA:platform=${platform};version=${version}`, ...extra] });

/** Room for compression to show: repetitive text, as real sketches have. */
const FILLER = ['the quick brown fox jumps over the lazy dog '.repeat(400)];
const plugV1 = sketch('Plug', '1.0.0', FILLER);
const plugV2 = sketch('Plug', '1.1.0', FILLER);
const plugMinimal = sketch('Plug-minimal', '1.1.0');
const oldCore = buildEsp8266App({ strings: ['ESP-OTA:platform=Plug;version=0.9.0'], crcWords: false });

/** The request OTAdrive's library sends: HTTP/1.1, its User-Agent, the ESP8266 headers, and maybe a Range. */
function otadriveRequest(host: string, method: string, uri: string, facts: DeviceFacts, range?: string): string {
  const arduino = esp8266Request(host, uri, facts).split('\r\n');
  const lines = [
    `${method} ${uri} HTTP/1.1`,
    `Host: ${host}`,
    'User-Agent: OTAdrive-SDK-v31',
    'Connection: close',
    ...(range ? [`Range: ${range}`] : []),
    ...arduino.filter((line) => line.startsWith('x-ESP8266-')),
  ];
  return lines.join('\r\n') + '\r\n\r\n';
}

describeEachStore('issue 15: Tasmota, ESP8266 gzip and OTAdrive-style clients', (store) => {
  let t: TestApp;
  let host: string;
  const arduino = (facts: DeviceFacts, platform = 'Plug') =>
    rawRequest(t.url, esp8266Request(host, `/update?dev=${platform}`, facts));
  const tasmota = (file: string, facts: DeviceFacts, platform = 'Plug') =>
    rawRequest(t.url, esp8266Request(host, `/tasmota/${platform}/${file}`, facts));
  const otadrive = (method: string, query: string, facts: DeviceFacts, range?: string, platform = 'Plug') =>
    rawRequest(t.url, otadriveRequest(host, method, `/otadrive/${platform}/update?${query}`, facts, range));

  beforeAll(async () => {
    t = await startTestApp(store);
    host = new URL(t.url).host;
    for (const name of ['Plug', 'Plug-minimal', 'Same'])
      expect((await api(t.url, 'POST', '/api/v1/platforms', { name, chip: 'esp8266' })).status).toBe(201);
    for (const mac of [DEVICE]) {
      await api(t.url, 'POST', '/api/v1/platforms/Plug/allowlist', { mac });
    }
    await api(t.url, 'POST', '/api/v1/platforms/Same/allowlist', { mac: SAME_DEVICE });
    for (const image of [oldCore, plugV1, plugV2, plugMinimal])
      expect((await api(t.url, 'POST', '/api/v1/firmware', image)).status).toBe(201);
  });
  afterAll(() => t.stop());

  describe('Tasmota OtaUrl (protocol.md §6.3)', () => {
    it('serves X.bin to a device reporting "1.0.0(tasmota)", and 304 once it runs "1.1.0(tasmota)"', async () => {
      const offered = await tasmota('tasmota.bin', { version: '1.0.0(tasmota)' });
      expect(offered.statusLine).toBe('HTTP/1.1 200 OK');
      expect(Buffer.compare(offered.body, plugV2)).toBe(0);
      expect(offered.headers.get('content-length')).toEqual([String(plugV2.length)]);
      expect(offered.headers.get('x-md5')).toEqual([md5(plugV2)]);
      expect(offered.headers.get('x-ota-reason')).toEqual(['newer-version']);
      const current = await tasmota('tasmota-DE.bin', { version: '1.1.0(tasmota)' });
      expect([current.status, current.headers.get('x-ota-reason')]).toEqual([304, ['current']]);
      // A development build after the release is newer: nothing to do, as for the Arduino route.
      const dev = await tasmota('tasmota.bin', { version: '1.1.0.3(tasmota)' });
      expect([dev.status, dev.headers.get('x-ota-reason')]).toEqual([304, ['device-newer']]);
    });

    it('serves X.bin.gz as a gzip copy: its own Content-Length and lowercase x-MD5, inflating to the release', async () => {
      const offered = await tasmota('tasmota.bin.gz', { version: '1.0.0(tasmota)' });
      expect(offered.status).toBe(200);
      expect([offered.body[0], offered.body[1]]).toEqual([0x1f, 0x8b]);
      expect(offered.headers.get('content-length')).toEqual([String(offered.body.length)]);
      expect(offered.headers.get('x-md5')).toEqual([md5(offered.body)]);
      expect(offered.headers.get('x-sha256')).toEqual([sha256(offered.body)]);
      expect(offered.headers.has('content-encoding')).toBe(false);
      expect(Buffer.compare(gunzipSync(offered.body), plugV2)).toBe(0);
      expect(offered.body.length).toBeLessThan(plugV2.length);
    });

    it('without a paired minimal image, a device short of space is refused as on the Arduino route', async () => {
      const facts = { version: '1.0.0(tasmota)', freeSpace: 1000 };
      const answer = await tasmota('tasmota.bin', facts);
      expect([answer.status, answer.headers.get('x-ota-reason')]).toEqual([403, ['too-large']]);
      const minimal = await tasmota('tasmota-minimal.bin', facts);
      expect([minimal.status, minimal.headers.get('x-ota-reason')]).toEqual([304, ['nothing-released']]);
    });

    it('with a paired minimal image, runs the two-step upgrade: the full image fails the client, then -minimal', async () => {
      const paired = await api<{ minimalPlatform: string }>(t.url, 'PATCH', '/api/v1/platforms/Plug', {
        minimalPlatform: 'Plug-minimal',
      });
      expect([paired.status, paired.json.minimalPlatform]).toEqual([200, 'Plug-minimal']);
      // Room for the minimal image, not for the full one.
      const facts = { version: '1.0.0(tasmota)', freeSpace: plugMinimal.length + 100 };
      const full = await tasmota('tasmota.bin.gz', facts);
      // What a file host answers: the client sees Content-Length > free space and fails with −100 by itself.
      expect(full.status).toBe(200);
      expect(full.headers.get('x-ota-reason')).toEqual(['too-large']);
      expect(Number(full.headers.get('content-length')![0])).toBeGreaterThan(facts.freeSpace);
      const minimal = await tasmota('tasmota-minimal.bin.gz', facts);
      expect(minimal.status).toBe(200);
      expect(Buffer.compare(gunzipSync(minimal.body), plugMinimal)).toBe(0);
      expect(minimal.headers.get('x-md5')).toEqual([md5(minimal.body)]);
      const plain = await tasmota('tasmota-minimal.bin', facts);
      expect(Buffer.compare(plain.body, plugMinimal)).toBe(0);
      // The minimal build then fetches OtaUrl again, now with room: the full image.
      const after = await tasmota('tasmota.bin', { version: '1.1.0(minimal)', freeSpace: 2_000_000 });
      // It reports the release's version, so it is current by version; by its sketch MD5 it is not the full image.
      expect(after.status).toBe(304);
      const byDigest = await tasmota('tasmota.bin', { sketchMd5: md5(plugMinimal), freeSpace: 2_000_000 });
      expect(byDigest.status).toBe(200);
      expect(Buffer.compare(byDigest.body, plugV2)).toBe(0);
      // The Arduino route knows nothing of minimal images: it refuses as before.
      expect((await arduino(facts)).status).toBe(403);
      expect(
        (await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { minimalPlatform: 'Plug' })).status,
        'a platform cannot be its own minimal image',
      ).toBe(400);
      expect((await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { minimalPlatform: 'Nope' })).status).toBe(404);
      expect((await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { minimalPlatform: null })).status).toBe(200);
    });

    it('unpairs a platform whose minimal platform is deleted', async () => {
      expect((await api(t.url, 'POST', '/api/v1/platforms', { name: 'Gone-minimal', chip: 'esp8266' })).status).toBe(
        201,
      );
      await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { minimalPlatform: 'Gone-minimal' });
      expect((await api(t.url, 'DELETE', '/api/v1/platforms/Gone-minimal')).status).toBe(204);
      const plug = await api<{ minimalPlatform: string | null }>(t.url, 'GET', '/api/v1/platforms/Plug');
      expect(plug.json.minimalPlatform).toBeNull();
      const answer = await tasmota('tasmota-minimal.bin', { version: '1.0.0(tasmota)' });
      expect([answer.status, answer.headers.get('x-ota-reason')]).toEqual([304, ['nothing-released']]);
    });

    it('answers file names Tasmota never sends with a 400 that says why', async () => {
      const answer = await rawRequest(t.url, esp8266Request(host, '/tasmota/Plug/..%2Fsecret', {}));
      expect(answer.status).toBe(400);
      expect(answer.body.toString()).toMatch(/file name/);
    });
  });

  describe('ESP8266 gzip (protocol.md §6.4)', () => {
    const onV1 = { version: '1.0.0', sketchMd5: md5(plugV1) };

    it('sends the image itself while the platform setting is off (the default)', async () => {
      const answer = await arduino(onV1);
      expect(Buffer.compare(answer.body, plugV2)).toBe(0);
    });

    it('"auto" sends gzip to a device whose running image was built with core ≥ 2.7, not to an older one', async () => {
      expect((await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { esp8266Gzip: 'auto' })).status).toBe(200);
      const modern = await arduino(onV1);
      expect(Buffer.compare(gunzipSync(modern.body), plugV2)).toBe(0);
      expect(modern.headers.get('x-md5')).toEqual([md5(modern.body)]);
      const old = await arduino({ version: '0.9.0', sketchMd5: md5(oldCore) });
      expect(Buffer.compare(old.body, plugV2)).toBe(0);
      const unknown = await arduino({ version: '1.0.0', sketchMd5: 'ab'.repeat(16) });
      expect(Buffer.compare(unknown.body, plugV2)).toBe(0);
    });

    it('"on" sends the same gzip bytes to every ESP8266 device, never to an ESP32 or a filesystem update', async () => {
      expect((await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { esp8266Gzip: 'on' })).status).toBe(200);
      const first = await arduino({ version: '0.9.0', sketchMd5: md5(oldCore) });
      const second = await arduino(onV1);
      expect([first.body[0], first.body[1]]).toEqual([0x1f, 0x8b]);
      expect(Buffer.compare(first.body, second.body)).toBe(0);
      expect(first.headers.get('content-disposition')?.[0]).toMatch(/\.bin\.gz"$/);
      const esp32 = await rawRequest(t.url, esp32Request(host, '/update?dev=Plug', { version: '1.0.0', mac: DEVICE }));
      expect(esp32.headers.get('x-ota-reason')).toEqual(['wrong-chip-family']);
    });

    it('recognises the device afterwards by the MD5 of the inflated image: 304 current, status current', async () => {
      const mac = 'DE:BA:7A:B1:E0:42';
      const served = await arduino({ ...onV1, mac });
      expect([served.body[0], served.body[1]]).toEqual([0x1f, 0x8b]);
      // After eboot inflated it, the device reports the MD5 of the inflated image (protocol.md §6.4).
      const after = await arduino({ sketchMd5: md5(gunzipSync(served.body)), mac });
      expect([after.status, after.headers.get('x-ota-reason')]).toEqual([304, ['current']]);
      await t.app.flushActivity();
      const devices = await api<{ devices: { mac: string; status: string; version: string }[] }>(
        t.url,
        'GET',
        '/api/v1/devices?platform=Plug',
      );
      expect(devices.json.devices.find((d) => d.mac.replace(/:/g, '') === 'DEBA7AB1E042')).toMatchObject({
        status: 'current',
        version: '1.1.0',
      });
      expect((await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { esp8266Gzip: 'off' })).status).toBe(200);
      expect((await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { esp8266Gzip: 'zip' })).status).toBe(400);
    });
  });

  describe('OTAdrive-style API (protocol.md §6.5)', () => {
    const facts = { sketchMd5: md5(plugV1) };

    it('answers the HEAD check with HTTP/1.1, the whole size, x-MD5 and x-version; 304 when current', async () => {
      const check = await otadrive('HEAD', 'k=any&v=1.0.0&s=15602487', facts);
      expect(check.statusLine).toBe('HTTP/1.1 200 OK');
      expect(check.headers.get('content-length')).toEqual([String(plugV2.length)]);
      expect(check.headers.get('x-md5')).toEqual([md5(plugV2)]);
      expect(check.headers.get('x-version')).toEqual(['1.1.0']);
      expect(check.body.length).toBe(0);
      const current = await otadrive('HEAD', 'k=any&v=1.1.0&s=15602487', { sketchMd5: md5(plugV2) });
      expect(current.statusLine).toBe('HTTP/1.1 304 Not Modified');
    });

    it('serves 16 bytes, then 32 KiB ranges: 206, Content-Range, the whole-file x-MD5 on every part; one download', async () => {
      const mac = 'DE:BA:7A:B1:E0:42';
      await t.app.flushActivity();
      const before = await downloadsOf(mac);
      const parts: Buffer[] = [];
      const first = await otadrive('GET', 'k=any&v=1.0.0&s=1', { ...facts, mac }, 'bytes=0-15');
      expect(first.statusLine).toBe('HTTP/1.1 206 Partial Content');
      expect(first.headers.get('content-range')).toEqual([`bytes 0-15/${plugV2.length}`]);
      expect(first.headers.get('x-md5')).toEqual([md5(plugV2)]);
      parts.push(first.body);
      for (let start = 16; start < plugV2.length; start += 32 * 1024) {
        const end = Math.min(start + 32 * 1024, plugV2.length) - 1;
        const part = await otadrive('GET', 'k=any&v=1.0.0&s=1', { ...facts, mac }, `bytes=${start}-${end}`);
        expect(part.statusLine).toBe('HTTP/1.1 206 Partial Content');
        expect(part.headers.get('content-range')).toEqual([`bytes ${start}-${end}/${plugV2.length}`]);
        expect(part.headers.get('content-length')).toEqual([String(end - start + 1)]);
        expect(part.headers.get('x-md5')).toEqual([md5(plugV2)]);
        parts.push(part.body);
      }
      expect(Buffer.compare(Buffer.concat(parts), plugV2)).toBe(0);
      await t.app.flushActivity();
      expect(await downloadsOf(mac)).toBe(before + 1);
    });

    it('takes the product key k as the device token where the platform asks for one', async () => {
      await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { deviceAuth: 'token', deviceSecret: 'product-key-1234' });
      expect((await otadrive('HEAD', 'v=1.0.0&s=1', facts)).status).toBe(401);
      expect((await otadrive('HEAD', 'k=wrong-key-000000&v=1.0.0&s=1', facts)).status).toBe(403);
      expect((await otadrive('HEAD', 'k=product-key-1234&v=1.0.0&s=1', facts)).status).toBe(200);
      await api(t.url, 'PATCH', '/api/v1/platforms/Plug', { deviceAuth: 'off' });
    });
  });

  async function downloadsOf(mac: string): Promise<number> {
    const devices = await api<{ devices: { mac: string; downloads: number }[] }>(t.url, 'GET', '/api/v1/devices');
    return devices.json.devices.find((d) => d.mac.replace(/:/g, '') === mac.replace(/:/g, ''))?.downloads ?? 0;
  }

  describe('every view answers as the Arduino route does (allowlist, chip, pin, rollout stage, window)', () => {
    const sameV1 = sketch('Same', '1.0.0');
    const sameV2 = sketch('Same', '1.1.0');
    const sameV3 = sketch('Same', '1.2.0');

    beforeAll(async () => {
      for (const image of [sameV1, sameV2])
        expect((await api(t.url, 'POST', '/api/v1/firmware', image)).status).toBe(201);
      await api(t.url, 'PATCH', '/api/v1/platforms/Same', { releasePolicy: 'manual' });
      expect((await api(t.url, 'POST', '/api/v1/firmware', sameV3)).status).toBe(201);
    });

    /** Status and reason from each client's route for one device. */
    async function answers(facts: DeviceFacts, esp32 = false): Promise<string[]> {
      const version = facts.version;
      const tasmotaFacts = { ...facts, ...(version ? { version: `${version}(tasmota)` } : {}) };
      const build = esp32 ? esp32Request : esp8266Request;
      const responses = [
        await rawRequest(t.url, build(host, '/update?dev=Same', facts)),
        await rawRequest(t.url, build(host, '/tasmota/Same/tasmota.bin', tasmotaFacts)),
        await rawRequest(t.url, build(host, '/tasmota/Same/tasmota.bin.gz', tasmotaFacts)),
        esp32
          ? await rawRequest(
              t.url,
              esp32Request(host, `/otadrive/Same/update?k=k&v=${version ?? ''}&s=1`, facts).replace(/^GET/, 'HEAD'),
            )
          : await otadrive('HEAD', `k=k&v=${version ?? ''}&s=1`, facts, undefined, 'Same'),
      ];
      return responses.map((r) => `${r.status} ${r.headers.get('x-ota-reason')?.[0] ?? ''}`);
    }
    const expectSame = async (facts: DeviceFacts, expected: string, esp32 = false) => {
      expect(await answers(facts, esp32)).toEqual([expected, expected, expected, expected]);
    };

    it('offers, refuses and holds back alike', async () => {
      await expectSame({ version: '1.0.0', mac: SAME_DEVICE }, '200 newer-version');
      await expectSame({ version: '1.1.0', mac: SAME_DEVICE }, '304 current');
      await expectSame({ version: '1.0.0', mac: STRANGER }, '403 not-allowed');
      await expectSame({ version: '1.0.0', mac: '24:0A:C4:00:11:22' }, '403 not-allowed', true);
      await api(t.url, 'POST', '/api/v1/platforms/Same/allowlist', { mac: '24:0A:C4:00:11:22' });
      await expectSame({ version: '1.0.0', mac: '24:0A:C4:00:11:22' }, '403 wrong-chip-family', true);
      await expectSame({ version: '1.0.0', mac: SAME_DEVICE, freeSpace: 100 }, '403 too-large');
    });

    it('follows a pin', async () => {
      const pinned = await api(t.url, 'PUT', `/api/v1/devices/${SAME_DEVICE}/pin`, { version: '1.0.0' });
      expect([pinned.status, pinned.json]).toEqual([200, expect.anything()]);
      await expectSame({ version: '1.1.0', mac: SAME_DEVICE }, '200 pinned');
      expect((await api(t.url, 'DELETE', `/api/v1/devices/${SAME_DEVICE}/pin`)).status).toBe(204);
    });

    it('follows a rollout stage', async () => {
      const started = await api(t.url, 'POST', '/api/v1/platforms/Same/rollouts', {
        version: '1.2.0',
        stages: [100],
        canary: { macs: [STRANGER] },
        // Several answers in a row to one device are what this test compares, not a failed install.
        policy: { maxAttempts: 50, failAfterChecks: 50 },
      });
      expect(started.status).toBe(201);
      await expectSame({ version: '1.1.0', mac: SAME_DEVICE }, '304 rollout-pending');
      await api(t.url, 'POST', '/api/v1/platforms/Same/allowlist', { mac: STRANGER });
      await expectSame({ version: '1.1.0', mac: STRANGER }, '200 newer-version');
      expect((await api(t.url, 'POST', '/api/v1/platforms/Same/rollouts/current/abort')).status).toBe(200);
    });

    it('follows the update window', async () => {
      const hour = new Date().getUTCHours();
      const at = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
      await api(t.url, 'PATCH', '/api/v1/platforms/Same', {
        updateWindow: { from: at(hour + 2), to: at(hour + 3), timeZone: 'UTC' },
      });
      await expectSame({ version: '1.0.0', mac: SAME_DEVICE }, '304 outside-window');
      await api(t.url, 'PATCH', '/api/v1/platforms/Same', { updateWindow: null });
      await expectSame({ version: '1.0.0', mac: SAME_DEVICE }, '200 newer-version');
    });
  });
});

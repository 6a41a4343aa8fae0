import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp32Request, esp8266Request, rawRequest, type RawResponse } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const image = (version: string) => buildEsp32App({ descriptor: { projectName: 'Porch32', version } });
const IMAGES = { '1.0.0': image('1.0.0'), '2.0.0': image('2.0.0'), '3.0.0': image('3.0.0') };

/** Devices: A and B on the allowlist; C is not. */
const A = '24:0A:C4:00:00:0A';
const B = '24:0A:C4:00:00:0B';
const C = '24:0A:C4:00:00:0C';

/** esp32FOTA's `?id=`: ESP.getEfuseMac() as a decimal u64, the first MAC byte lowest. */
function efuseId(mac: string): string {
  const bytes = mac.split(':').map((h) => BigInt(parseInt(h, 16)));
  return bytes.reduce((sum, byte, i) => sum + (byte << BigInt(8 * i)), 0n).toString();
}

/** What ESPHome sends (http_request, ESP-IDF): a plain GET with its user agent, nothing about the device. */
function esphomeRequest(host: string, uri: string, extra: string[] = []): string {
  return [
    `GET ${uri} HTTP/1.1`,
    `Host: ${host}`,
    'User-Agent: ESPHome/2024.10.0 (https://esphome.io)',
    ...extra,
    'Connection: close',
  ]
    .join('\r\n')
    .concat('\r\n\r\n');
}

/** esp32FOTA: arduino-esp32's HTTPClient, HTTP/1.1, its own user agent. */
function esp32FotaRequest(host: string, uri: string): string {
  return [`GET ${uri} HTTP/1.1`, `Host: ${host}`, 'User-Agent: ESP32HTTPClient', 'Connection: close']
    .join('\r\n')
    .concat('\r\n\r\n');
}

interface Manifest {
  name: string;
  version: string;
  builds: { chipFamily: string; ota: { path: string; md5: string; summary?: string; release_url?: string } }[];
}

/**
 * Issue 15 items 1 and 3: ESPHome's and esp32FOTA's manifests are views of the one decision. For each case the
 * Arduino route is asked for the same device (its MAC, the version it runs) and the manifests must name the same
 * image, or keep the device where it is, or refuse with the same status and reason.
 */
describeEachStore('ESPHome and esp32FOTA manifests', (store) => {
  let t: TestApp;
  let host: string;
  const keys: Record<string, string> = {};

  const raw = (request: string) => rawRequest(t.url, request);
  const header = (r: RawResponse, name: string) => r.headers.get(name)?.[0];

  /** The Arduino route's answer for this device running `version`: status, reason, the image version it serves. */
  async function arduino(mac: string, version: string) {
    const r = await raw(
      esp32Request(host, `/update?dev=Porch32&ver=${version}`, { mac, version, freeSpace: 4_000_000 }),
    );
    return {
      status: r.status,
      reason: header(r, 'x-ota-reason'),
      serves: r.status === 200 ? header(r, 'x-version') : undefined,
      md5: r.status === 200 ? md5(r.body) : undefined,
    };
  }

  /** ESPHome's manifest for the device's key, as the YAML we hand out asks for it (`?ver=`), and its image. */
  async function esphome(mac: string, version: string) {
    const r = await raw(
      esphomeRequest(host, `/ota/Porch32/d/${keys[mac]}/manifest.json?ver=${encodeURIComponent(version)}`),
    );
    if (r.status !== 200)
      return { status: r.status, reason: header(r, 'x-ota-reason'), manifest: undefined, image: undefined };
    const manifest = JSON.parse(r.body.toString('utf8')) as Manifest;
    const imageAnswer = await raw(esphomeRequest(host, manifest.builds[0]!.ota.path));
    return { status: r.status, reason: header(r, 'x-ota-reason'), manifest, image: imageAnswer };
  }

  async function esp32fota(mac: string) {
    const r = await raw(esp32FotaRequest(host, `/ota/Porch32/esp32fota.json?id=${efuseId(mac)}`));
    const entries =
      r.status === 200
        ? (JSON.parse(r.body.toString('utf8')) as { type: string; version: string; url: string }[])
        : undefined;
    return { status: r.status, reason: header(r, 'x-ota-reason'), entries, body: r.body };
  }

  beforeAll(async () => {
    t = await startTestApp(store, { rolloutMonitorMs: 3_600_000 });
    host = new URL(t.url).host;
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Porch32', chip: 'esp32', releasePolicy: 'manual' });
    for (const mac of [A, B]) await api(t.url, 'POST', '/api/v1/platforms/Porch32/allowlist', { mac });
    const ids: Record<string, number> = {};
    for (const [version, bytes] of Object.entries(IMAGES)) {
      const up = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/platforms/Porch32/firmware', bytes);
      expect(up.status).toBe(201);
      ids[version] = up.json.image.id;
    }
    expect((await api(t.url, 'POST', `/api/v1/firmware/${ids['2.0.0']}/release`)).status).toBe(200);
    for (const mac of [A, B, C]) {
      const minted = await api<{ key: string; mac: string; manifestPath: string }>(
        t.url,
        'POST',
        '/api/v1/platforms/Porch32/device-keys',
        { mac },
      );
      expect(minted.status).toBe(201);
      expect(minted.json.manifestPath).toBe(`/ota/Porch32/d/${minted.json.key}/manifest.json`);
      keys[mac] = minted.json.key;
    }
    // The ESP8266 platform esp32FOTA must be refused on.
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Porch8266', chip: 'esp8266', accessMode: 'open' });
    const up = await api(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Porch8266;version=1.0.0'] }),
    );
    expect(up.status).toBe(201);
  });
  afterAll(() => t.stop());

  it('ESPHome contract: exact Content-Length, the required fields, lowercase md5 of exactly the bytes the path serves', async () => {
    const r = await raw(esphomeRequest(host, `/ota/Porch32/d/${keys[A]}/manifest.json?ver=1.0.0`));
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(header(r, 'content-type')).toBe('application/json');
    expect(Number(header(r, 'content-length'))).toBe(r.body.length);
    expect(r.headers.get('transfer-encoding')).toBeUndefined();
    const manifest = JSON.parse(r.body.toString('utf8')) as Manifest;
    expect(Object.keys(manifest)).toEqual(['name', 'version', 'builds']);
    expect(manifest).toMatchObject({ name: 'Porch32', version: '2.0.0' });
    const [build] = manifest.builds;
    expect(build!.chipFamily).toBe('ESP32');
    expect(build!.ota.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(build!.ota.release_url).toBe(`http://${host}/platforms/Porch32`);
    expect(build!.ota.summary).toBe('1.0.0 → 2.0.0');
    expect(build!.ota.path).toBe(`/ota/Porch32/d/${keys[A]}/firmware.bin?ver=1.0.0`);
    // HEAD: the same headers, no body.
    const head = await raw(
      esphomeRequest(host, `/ota/Porch32/d/${keys[A]}/manifest.json?ver=1.0.0`).replace(/^GET /, 'HEAD '),
    );
    expect([head.status, header(head, 'content-length'), head.body.length]).toEqual([200, String(r.body.length), 0]);
    const served = await raw(esphomeRequest(host, build!.ota.path));
    expect(served.status).toBe(200);
    expect(Number(header(served, 'content-length'))).toBe(IMAGES['2.0.0'].length);
    expect(served.body.equals(IMAGES['2.0.0'])).toBe(true);
    expect(md5(served.body)).toBe(build!.ota.md5);
    // HEAD answers the same headers, no body; a Range is answered 206 from the same image delivery.
    const ranged = await raw(esphomeRequest(host, build!.ota.path, ['Range: bytes=0-15']));
    expect(ranged.status).toBe(206);
    expect(header(ranged, 'content-range')).toBe(`bytes 0-15/${IMAGES['2.0.0'].length}`);
    expect(ranged.body.equals(IMAGES['2.0.0'].subarray(0, 16))).toBe(true);
  });

  it('esp32FOTA contract: [{type, version, url}] well under its 2 KB parser, an absolute URL serving the image', async () => {
    const r = await esp32fota(A);
    expect(r.status).toBe(200);
    expect(r.body.length).toBeLessThan(512);
    expect(r.entries).toEqual([
      { type: 'Porch32', version: '2.0.0', url: `http://${host}/ota/Porch32/app.bin?mac=${encodeURIComponent(A)}` },
    ]);
    const image = await fetch(r.entries![0]!.url);
    expect(image.status).toBe(200);
    expect(Number(image.headers.get('content-length'))).toBeGreaterThan(0);
    expect(Buffer.from(await image.arrayBuffer()).equals(IMAGES['2.0.0'])).toBe(true);
    // ?id= that is not an eFuse MAC: 400 with a reason, nothing else learned.
    const bad = await raw(esp32FotaRequest(host, '/ota/Porch32/esp32fota.json?id=281474976710656'));
    expect(bad.status).toBe(400);
    expect(header(bad, 'x-ota-reason')).toBe('bad-request');
  });

  it('the allowlist: a device not on it is refused by every view, in the Arduino route’s words', async () => {
    const expected = await arduino(C, '1.0.0');
    expect(expected).toMatchObject({ status: 403, reason: 'not-allowed' });
    expect(await esphome(C, '1.0.0')).toMatchObject({ status: 403, reason: 'not-allowed' });
    expect(await esp32fota(C)).toMatchObject({ status: 403, reason: 'not-allowed' });
    // Without a key ESPHome names no MAC: this platform only serves listed devices.
    const wide = await raw(esphomeRequest(host, '/ota/Porch32/manifest.json?ver=1.0.0'));
    expect([wide.status, header(wide, 'x-ota-reason')]).toEqual([403, 'mac-required']);
    // An unknown key, and a malformed one.
    const unknown = await raw(esphomeRequest(host, '/ota/Porch32/d/AAAAAAAAAAAAAAAAAAAAAA/manifest.json'));
    expect([unknown.status, header(unknown, 'x-ota-reason')]).toEqual([404, 'unknown-device-key']);
    const malformed = await raw(esphomeRequest(host, '/ota/Porch32/d/short/manifest.json'));
    expect(malformed.status).toBe(400);
  });

  it('the chip: esp32FOTA on an ESP8266 platform is refused as the Arduino route refuses an ESP32 there', async () => {
    const expected = await raw(esp32Request(host, '/update?dev=Porch8266&ver=0.1.0', { mac: A, version: '0.1.0' }));
    expect([expected.status, header(expected, 'x-ota-reason')]).toEqual([403, 'wrong-chip-family']);
    const r = await raw(esp32FotaRequest(host, `/ota/Porch8266/esp32fota.json?id=${efuseId(A)}`));
    expect([r.status, header(r, 'x-ota-reason')]).toEqual([403, 'wrong-chip-family']);
    // ESPHome's manifest names the chip; an ESP32 build of ESPHome finds no build for itself and installs nothing.
    const eight = await raw(esphomeRequest(host, '/ota/Porch8266/manifest.json?ver=0.1.0'));
    expect((JSON.parse(eight.body.toString('utf8')) as Manifest).builds[0]!.chipFamily).toBe('ESP8266');
    const arduino8266 = await raw(esp8266Request(host, '/update?dev=Porch8266&ver=0.1.0', { version: '0.1.0' }));
    expect(arduino8266.status).toBe(200);
  });

  it('current, newer and older devices: ESPHome shows the version to stay on unless the decision serves', async () => {
    for (const running of ['1.0.0', '2.0.0', '9.0.0']) {
      const expected = await arduino(A, running);
      const view = await esphome(A, running);
      if (expected.status === 200) {
        expect(view.manifest!.version).toBe(expected.serves);
        expect(md5(view.image!.body)).toBe(expected.md5);
      } else {
        expect(expected.status).toBe(304);
        expect(view.manifest!.version).toBe(running); // ESPHome: equal strings, no update
        expect(view.reason).toBe(expected.reason);
        expect(view.image!.status).toBe(304); // a forced install gets nothing
      }
    }
    // 2.0.0 was released by a person (releasePolicy manual): "released on purpose", so a newer device is offered it
    // back on the Arduino route, and ESPHome's manifest shows 2.0.0 to it as well.
    expect((await arduino(A, '9.0.0')).reason).toBe('rollback');
    expect((await esphome(A, '9.0.0')).manifest!.version).toBe('2.0.0');
  });

  it('a pin: every view names the pinned (older) image, as the Arduino route serves it', async () => {
    expect(
      (
        await api(t.url, 'PUT', `/api/v1/devices/${encodeURIComponent(A)}/pin`, {
          version: '1.0.0',
          platform: 'Porch32',
        })
      ).status,
    ).toBe(200);
    try {
      const expected = await arduino(A, '2.0.0');
      expect(expected).toMatchObject({ status: 200, serves: '1.0.0', reason: 'pinned' });
      const view = await esphome(A, '2.0.0');
      expect(view.manifest!.version).toBe('1.0.0');
      expect(md5(view.image!.body)).toBe(expected.md5);
      expect((await esp32fota(A)).entries![0]!.version).toBe('1.0.0');
      // B is not pinned: it stays on the release.
      expect((await esphome(B, '2.0.0')).manifest!.version).toBe('2.0.0');
    } finally {
      await api(t.url, 'DELETE', `/api/v1/devices/${encodeURIComponent(A)}/pin?platform=Porch32`);
    }
  });

  it('a rollout stage: the canary is offered the target, the others stay on the release in every view', async () => {
    const started = await api(t.url, 'POST', '/api/v1/platforms/Porch32/rollouts', {
      version: '3.0.0',
      stages: [100],
      canary: { macs: [A] },
    });
    expect(started.status).toBe(201);
    try {
      const canary = await arduino(A, '2.0.0');
      expect(canary).toMatchObject({ status: 200, serves: '3.0.0' });
      const canaryView = await esphome(A, '2.0.0');
      expect(canaryView.manifest!.version).toBe('3.0.0');
      expect(md5(canaryView.image!.body)).toBe(canary.md5);
      expect((await esp32fota(A)).entries![0]!.version).toBe('3.0.0');
      // The download through ESPHome's path is the device's download, as on the Arduino route.
      await t.app.flushActivity();
      const downloads = await api<{ events: { type: string; toVersion: string | null }[] }>(
        t.url,
        'GET',
        `/api/v1/events?mac=${encodeURIComponent(A)}&type=download`,
      );
      expect(downloads.json.events.filter((e) => e.toVersion === '3.0.0').length).toBeGreaterThanOrEqual(2);

      const waiting = await arduino(B, '2.0.0');
      expect(waiting).toMatchObject({ status: 304, reason: 'rollout-pending' });
      expect(await esphome(B, '2.0.0')).toMatchObject({ reason: 'rollout-pending', manifest: { version: '2.0.0' } });
      // esp32FOTA says no version: it is told the image the stable URL serves B (the release), never the target.
      expect((await esp32fota(B)).entries![0]!.version).toBe('2.0.0');
    } finally {
      await api(t.url, 'POST', '/api/v1/platforms/Porch32/rollouts/current/abort');
    }
  });

  it('the update window: outside it, ESPHome stays where it is and esp32FOTA gets an empty list', async () => {
    const now = new Date();
    const hh = (h: number) => String(h).padStart(2, '0');
    // A window that closed an hour ago and opens in an hour (UTC).
    const window = {
      from: `${hh((now.getUTCHours() + 1) % 24)}:00`,
      to: `${hh((now.getUTCHours() + 23) % 24)}:00`,
      timeZone: 'UTC',
    };
    expect((await api(t.url, 'PATCH', '/api/v1/platforms/Porch32', { updateWindow: window })).status).toBe(200);
    try {
      const expected = await arduino(A, '1.0.0');
      expect(expected).toMatchObject({ status: 304, reason: 'outside-window' });
      expect(await esphome(A, '1.0.0')).toMatchObject({ reason: 'outside-window', manifest: { version: '1.0.0' } });
      const fota = await esp32fota(A);
      expect([fota.status, fota.reason, fota.entries]).toEqual([200, 'outside-window', []]);
      // ESPHome without ?ver=: no version can be shown that would keep it, so no manifest.
      const bare = await raw(esphomeRequest(host, `/ota/Porch32/d/${keys[A]}/manifest.json`));
      expect([bare.status, header(bare, 'x-ota-reason')]).toEqual([304, 'outside-window']);
    } finally {
      await api(t.url, 'PATCH', '/api/v1/platforms/Porch32', { updateWindow: null });
    }
  });

  it('device login: ESPHome’s user:secret@ (Basic) and ?token= reach the manifest and the image path', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', {
      name: 'Locked32',
      chip: 'esp32',
      accessMode: 'open',
      deviceAuth: 'token',
      deviceSecret: 'device-token-0123456789',
    });
    const up = await api(
      t.url,
      'POST',
      '/api/v1/platforms/Locked32/firmware',
      buildEsp32App({ descriptor: { projectName: 'Locked32', version: '4.0.0' } }),
    );
    expect(up.status).toBe(201);
    const minted = await api<{ key: string }>(t.url, 'POST', '/api/v1/platforms/Locked32/device-keys', { mac: B });
    const path = `/ota/Locked32/d/${minted.json.key}/manifest.json?ver=1.0.0`;
    const missing = await raw(esphomeRequest(host, path));
    expect([missing.status, header(missing, 'x-ota-reason')]).toEqual([401, 'auth-required']);
    const r = await raw(esphomeRequest(host, `${path}&token=device-token-0123456789`));
    expect(r.status).toBe(200);
    const manifest = JSON.parse(r.body.toString('utf8')) as Manifest;
    expect(manifest.builds[0]!.ota.path).toBe(
      `/ota/Locked32/d/${minted.json.key}/firmware.bin?ver=1.0.0&token=device-token-0123456789`,
    );
    const served = await raw(esphomeRequest(host, manifest.builds[0]!.ota.path));
    expect(served.status).toBe(200);
    expect(md5(served.body)).toBe(manifest.builds[0]!.ota.md5);
  });

  it('keys are minted and revoked by people, recorded with the actor; a revoked key stops working', async () => {
    const minted = await api<{ key: string }>(t.url, 'POST', '/api/v1/platforms/Porch32/device-keys', {
      mac: 'not a mac',
    });
    expect(minted.status).toBe(400);
    const again = await api<{ key: string }>(t.url, 'POST', '/api/v1/platforms/Porch32/device-keys', { mac: B });
    expect(again.json.key).not.toBe(keys[B]);
    const old = await raw(esphomeRequest(host, `/ota/Porch32/d/${keys[B]}/manifest.json?ver=1.0.0`));
    expect(old.status).toBe(404);
    keys[B] = again.json.key;
    expect((await api(t.url, 'DELETE', `/api/v1/platforms/Porch32/device-keys/${encodeURIComponent(C)}`)).status).toBe(
      204,
    );
    const revoked = await raw(esphomeRequest(host, `/ota/Porch32/d/${keys[C]}/manifest.json?ver=1.0.0`));
    expect(revoked.status).toBe(404);
    const events = await api<{ events: { type: string; actor: string | null; mac: string | null }[] }>(
      t.url,
      'GET',
      '/api/v1/events?platform=Porch32',
    );
    const keyEvents = events.json.events.filter((e) => e.type.startsWith('device-key-'));
    expect(keyEvents.map((e) => e.type)).toContain('device-key-revoked');
    expect(keyEvents.filter((e) => e.type === 'device-key-minted').length).toBeGreaterThanOrEqual(4);
    expect(keyEvents.every((e) => e.actor !== null && e.actor !== '')).toBe(true);
  });

  it(
    'hostile keys, ids, platform names and queries on the new routes: a 4xx with a reason or an answer, never a 5xx',
    { timeout: 60_000 },
    async () => {
      const segment = fc.oneof(
        // any text percent-encoded, or raw oddities (bad escapes, NUL, very long)
        fc.string({ maxLength: 40 }).map((text) => encodeURIComponent(text)),
        fc.constantFrom('Porch32', 'Porch8266', '%', '%ZZ', '%00', '..', '%2F', 'x'.repeat(300), keys[A]!),
      );
      const value = fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom('1', '-1', '281474976710655', '9'.repeat(30), '%00', '1.0.0'),
      );
      const routes: ((p: string, k: string) => string)[] = [
        (p: string) => `/ota/${p}/manifest.json`,
        (p: string, k: string) => `/ota/${p}/d/${k}/manifest.json`,
        (p: string, k: string) => `/ota/${p}/d/${k}/firmware.bin`,
        (p: string) => `/ota/${p}/esp32fota.json`,
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.nat(routes.length - 1),
          segment,
          segment,
          fc.array(fc.tuple(fc.constantFrom('id', 'ver', 'token', 'mac', 'dev', 'mode'), value), { maxLength: 4 }),
          async (route, platform, key, query) => {
            const search = query.map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('&');
            const uri = routes[route]!(platform, key) + (search ? `?${search}` : '');
            const r = await raw(esphomeRequest(host, uri));
            expect(r.status).toBeLessThan(500);
            // Every 4xx says why: the device routes in x-ota-reason and a text body; a path that is no route at all
            // (an empty segment) gets the framework's JSON 404 with its error.
            if (r.status >= 400) {
              const reason =
                header(r, 'x-ota-reason') ?? (JSON.parse(r.body.toString('utf8')) as { error?: string }).error;
              expect(reason, `${r.statusLine} for ${uri}`).toBeTruthy();
              expect(r.body.length).toBeGreaterThan(0);
            }
          },
        ),
        { numRuns: 150 },
      );
    },
  );
});

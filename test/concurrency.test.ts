import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const DEVICES = 16;
const CHECKS_PER_DEVICE = 100;
const UPLOADS = 6;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const macOf = (i: number) => `AA:BB:CC:00:00:${i.toString(16).padStart(2, '0').toUpperCase()}`;

/**
 * The original server rewrote one YAML file per download and lost about a fifth of its writes with 16 concurrent
 * clients. Here 16 devices check 100 times each while new versions are uploaded and old ones deleted; every check
 * must be counted,
 * every download must match its x-MD5, and every upload must be kept.
 */
describeEachStore('concurrent device checks and uploads', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store);
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Fleet', accessMode: 'open' });
    await api(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Fleet;version=1.0.0'] }),
    );
  });
  afterAll(() => t.stop());

  it('loses nothing and counts exactly', async () => {
    const errors: string[] = [];
    let downloads = 0;
    const expectedDownloads = new Map<string, number>();

    const device = async (index: number) => {
      const mac = macOf(index);
      for (let n = 0; n < CHECKS_PER_DEVICE; n++) {
        // Half the checks claim an old version (→ download), half the newest possible (→ 304).
        const version = n % 2 === 0 ? '0.0.1' : '99.0.0';
        const response = await fetch(`${t.url}/update?dev=Fleet&ver=${version}`, {
          headers: { 'user-agent': 'ESP8266-http-Update', 'x-esp8266-sta-mac': mac, 'x-esp8266-version': version },
        });
        const body = Buffer.from(await response.arrayBuffer());
        if (response.status === 200) {
          downloads++;
          expectedDownloads.set(mac, (expectedDownloads.get(mac) ?? 0) + 1);
          if (md5(body) !== response.headers.get('x-md5')) errors.push(`${mac}: body does not match x-MD5`);
          if (Number(response.headers.get('content-length')) !== body.length)
            errors.push(`${mac}: wrong Content-Length`);
        } else if (response.status !== 304) {
          errors.push(`${mac}: unexpected ${response.status}`);
        }
      }
    };
    const uploads = async () => {
      const acknowledged: string[] = [];
      for (let v = 1; v <= UPLOADS; v++) {
        const version = `1.${v}.0`;
        const image = buildEsp8266App({ strings: [`ESP-OTA:platform=Fleet;version=${version}`, 'x'.repeat(v * 1000)] });
        const response = await api(t.url, 'POST', '/api/v1/firmware', image);
        if (response.status === 201) acknowledged.push(version);
        else errors.push(`upload ${version}: ${response.status}`);
        // A throw-away image, uploaded and deleted while devices download the released ones.
        const scratch = buildEsp8266App({ strings: [`ESP-OTA:platform=Fleet;version=0.${v}.0`] });
        const kept = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', scratch);
        const deleted = await api(t.url, 'DELETE', `/api/v1/firmware/${kept.json.image.id}`);
        if (kept.status !== 201 || deleted.status !== 204)
          errors.push(`scratch ${v}: ${kept.status}/${deleted.status}`);
      }
      return acknowledged;
    };

    const [acknowledged] = await Promise.all([uploads(), ...Array.from({ length: DEVICES }, (_, i) => device(i))]);
    expect(errors).toEqual([]);
    expect(downloads).toBe((DEVICES * CHECKS_PER_DEVICE) / 2);

    await t.app.flushActivity();
    const { json } = await api<{ devices: { mac: string; checks: number; downloads: number }[] }>(
      t.url,
      'GET',
      '/api/v1/devices?platform=Fleet',
    );
    expect(json.devices).toHaveLength(DEVICES);
    for (const d of json.devices) {
      expect(d.checks, d.mac).toBe(CHECKS_PER_DEVICE);
      expect(d.downloads, d.mac).toBe(expectedDownloads.get(d.mac));
    }
    const listed = await api<{ images: { version: string; released: boolean }[] }>(
      t.url,
      'GET',
      '/api/v1/platforms/Fleet/firmware',
    );
    expect(listed.json.images.map((i) => i.version).sort()).toEqual(['1.0.0', ...acknowledged].sort());
    expect(listed.json.images.find((i) => i.released)?.version).toBe(`1.${UPLOADS}.0`);
    // The history holds what changed (issue 13): each device's first check, and each download.
    const list = (type: string) => t.app.catalogue.stores.events.list({ platform: 'Fleet', type, limit: 100_000 });
    expect((await list('first-seen')).length).toBe(DEVICES);
    expect((await list('download')).length).toBe(downloads);
  });
});

import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { api, AUTH } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

interface ImageJson {
  id: number;
  version: string;
  released: boolean;
  kind: string;
}

describeEachStore('REST API', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store, { uploadLimit: 256 * 1024 });
  });
  afterAll(() => t.stop());

  const blobCount = async () => (await t.app.blobs.list()).length;

  it('creates, lists, renames and deletes platforms; names are case-insensitively unique', async () => {
    const created = await api(t.url, 'POST', '/api/v1/platforms', { name: 'Kitchen Lamp', chip: 'ESP32-C3' });
    expect(created).toMatchObject({
      status: 201,
      json: { name: 'Kitchen Lamp', chip: 'esp32c3', accessMode: 'allowlist' },
    });
    expect((await api(t.url, 'POST', '/api/v1/platforms', { name: 'kitchen lamp' })).status).toBe(409);
    expect((await api(t.url, 'GET', '/api/v1/platforms/KITCHEN%20LAMP')).json).toMatchObject({ name: 'Kitchen Lamp' });
    expect((await api(t.url, 'PATCH', '/api/v1/platforms/kitchen%20lamp', { name: 'Lamp' })).json).toMatchObject({
      name: 'Lamp',
    });
    expect((await api(t.url, 'DELETE', '/api/v1/platforms/Lamp')).status).toBe(204);
    expect((await api(t.url, 'GET', '/api/v1/platforms/Lamp')).status).toBe(404);
  });

  it.each([
    [{ name: '' }, 400],
    [{ name: '../etc' }, 400],
    [{ name: 'a\u0000b' }, 400],
    [{ name: 'x'.repeat(65) }, 400],
    [{ name: 'ok', chip: 'esp99' }, 400],
    [{ name: 'ok', accessMode: 'everyone' }, 400],
    [{ name: 'ok', extra: 1 }, 400],
  ])('refuses platform %j with %i', async (body, status) => {
    const response = await api<{ error: string }>(t.url, 'POST', '/api/v1/platforms', body);
    expect(response.status).toBe(status);
    expect(response.json.error).toBeDefined();
  });

  it('refuses malformed JSON and unsupported bodies with 4xx, not 500', async () => {
    const bad = await fetch(`${t.url}/api/v1/platforms`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(bad.status).toBe(400);
    const text = await fetch(`${t.url}/api/v1/firmware`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(text.status).toBe(415);
  });

  it('keeps an allowlist with MACs in any format, stored once', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Sensors' });
    await api(t.url, 'POST', '/api/v1/platforms/Sensors/allowlist', { mac: '5c-cf-7f-12-34-56', label: 'porch' });
    await api(t.url, 'POST', '/api/v1/platforms/Sensors/allowlist', { mac: '5CCF7F123456', label: 'front porch' });
    const list = await api<{ devices: { mac: string; label: string }[] }>(
      t.url,
      'GET',
      '/api/v1/platforms/Sensors/allowlist',
    );
    expect(list.json.devices).toEqual([expect.objectContaining({ mac: '5C:CF:7F:12:34:56', label: 'front porch' })]);
    expect((await api(t.url, 'POST', '/api/v1/platforms/Sensors/allowlist', { mac: 'nonsense' })).status).toBe(400);
    expect((await api(t.url, 'DELETE', '/api/v1/platforms/Sensors/allowlist/5C:CF:7F:12:34:56')).status).toBe(204);
    expect((await api(t.url, 'DELETE', '/api/v1/platforms/Sensors/allowlist/5C:CF:7F:12:34:56')).status).toBe(404);
  });

  it('uploads raw and multipart, detects identity, keeps history and releases the highest version', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Porch' });
    const v2 = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=2.0.0'] });
    const v1 = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=1.5.0'] });
    const first = await api<{ released: boolean; image: ImageJson; identity: { version: { source: string } } }>(
      t.url,
      'POST',
      '/api/v1/firmware',
      v2,
    );
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({
      released: true,
      image: { version: '2.0.0' },
      identity: { version: { source: 'marker' } },
    });

    const form = new FormData();
    form.append('platform', 'Porch');
    form.append('file', new Blob([new Uint8Array(v1)]), 'porch-1.5.0.bin');
    const second = await fetch(`${t.url}/api/v1/firmware`, { method: 'POST', body: form, headers: AUTH });
    expect(second.status).toBe(201);
    expect(await second.json()).toMatchObject({
      released: false,
      image: { version: '1.5.0', filename: 'porch-1.5.0.bin' },
    });

    const list = await api<{ platform: { chip: string }; images: ImageJson[] }>(
      t.url,
      'GET',
      '/api/v1/platforms/Porch/firmware',
    );
    expect(list.json.platform.chip).toBe('esp8266');
    expect(list.json.images.map((i) => [i.version, i.released])).toEqual([
      ['1.5.0', false],
      ['2.0.0', true],
    ]);
  });

  it('keeps hostile file names as data: never a path, never a header injection', async () => {
    const image = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=2.5.0'] });
    const hostile = '../../etc/passwd"\r\nX-Evil: 1.bin';
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(image)]), hostile);
    const response = await fetch(`${t.url}/api/v1/firmware`, { method: 'POST', body: form, headers: AUTH });
    expect(response.status).toBe(201);
    const { image: stored } = (await response.json()) as { image: { id: number; filename: string; sha256: string } };
    expect(stored.filename).not.toContain('/');
    expect((await t.app.blobs.list()).map((b) => b.key)).toContain(stored.sha256);
    const download = await fetch(`${t.url}/api/v1/firmware/${stored.id}/download`, { headers: AUTH });
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="firmware-2.5.0.bin"');
    expect(download.headers.get('x-evil')).toBeNull();
    expect((await api(t.url, 'DELETE', `/api/v1/firmware/${stored.id}`)).status).toBe(409); // released: it is the highest
    // A raw upload's ?filename= is stored as text as well; nothing is created outside the blob store.
    const raw = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=2.6.0'] });
    const rawResponse = await api<{ image: { filename: string } }>(
      t.url,
      'POST',
      `/api/v1/firmware?filename=${encodeURIComponent('../../../tmp/evil.bin')}`,
      raw,
    );
    expect(rawResponse.json.image.filename).toBe('../../../tmp/evil.bin');
    expect(readdirSync(t.stagingDir)).toEqual([]);
  });

  it('refuses a version that already exists, also written differently', async () => {
    const again = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=v2.0.0', 'different bytes'] });
    const response = await api<{ error: string; message: string }>(t.url, 'POST', '/api/v1/firmware', again);
    expect(response.status).toBe(409);
    expect(response.json.error).toBe('version-exists');
  });

  it('refuses non-firmware with the analyser’s reason and keeps nothing', async () => {
    const before = await blobCount();
    for (const body of [
      Buffer.from('<html>404</html>'),
      Buffer.alloc(0),
      Buffer.from('version https://git-lfs.github.com/spec/v1\n'),
    ]) {
      const response = await api<{ error: string; message: string }>(
        t.url,
        'POST',
        '/api/v1/platforms/Porch/firmware',
        body,
      );
      expect(response.status).toBe(422);
      expect(response.json.error).toBe('firmware-rejected');
      expect(response.json.message.length).toBeGreaterThan(10);
    }
    expect(await blobCount()).toBe(before);
    expect(readdirSync(t.stagingDir)).toEqual([]);
  });

  it('asks for the version when the image does not state one, and takes it when given', async () => {
    const image = buildEsp8266App({ strings: ['Porch firmware', 'lib 3.3.3', 'other 4.4.4'] });
    const ask = await api<{
      error: string;
      details: { needs: string[]; identity: { version: { candidates: { value: string }[] } } };
    }>(t.url, 'POST', '/api/v1/platforms/Porch/firmware', image);
    expect(ask.status).toBe(422);
    expect(ask.json.error).toBe('identity-needed');
    expect(ask.json.details.needs).toEqual(['version']);
    expect(ask.json.details.identity.version.candidates.map((c) => c.value).sort()).toEqual(['3.3.3', '4.4.4']);
    const given = await api<{ image: ImageJson }>(
      t.url,
      'POST',
      '/api/v1/platforms/Porch/firmware?version=2.1.0',
      image,
    );
    expect(given.status).toBe(201);
    expect(given.json.image.version).toBe('2.1.0');
  });

  it('refuses an image for another chip than the platform’s', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'S3Board', chip: 'esp32s3' });
    const c3 = buildEsp32App({ chipId: 5, descriptor: { projectName: 'S3Board', version: '1.0.0' } });
    const response = await api<{ error: string; message: string }>(t.url, 'POST', '/api/v1/firmware', c3);
    expect(response).toMatchObject({ status: 422, json: { error: 'wrong-chip' } });
    expect(response.json.message).toContain('ESP32-C3');
  });

  it('says which platform to create when the detected one does not exist', async () => {
    const app = buildEsp32App({ descriptor: { projectName: 'brand_new', version: '0.1.0' } });
    const response = await api<{ error: string; details: { detectedPlatform: string } }>(
      t.url,
      'POST',
      '/api/v1/firmware',
      app,
    );
    expect(response).toMatchObject({
      status: 404,
      json: { error: 'unknown-platform', details: { detectedPlatform: 'brand_new' } },
    });
  });

  it('refuses an upload over the limit without keeping any of it', async () => {
    const before = await blobCount();
    const huge = Buffer.alloc(300 * 1024, 0xe9);
    const raw = await api<{ error: string }>(t.url, 'POST', '/api/v1/platforms/Porch/firmware', huge);
    expect(raw).toMatchObject({ status: 413, json: { error: 'upload-too-large' } });
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(huge)]), 'huge.bin');
    const multipart = await fetch(`${t.url}/api/v1/platforms/Porch/firmware`, {
      method: 'POST',
      body: form,
      headers: AUTH,
    });
    expect(multipart.status).toBe(413);
    expect(await blobCount()).toBe(before);
    expect(readdirSync(t.stagingDir)).toEqual([]);
  });

  it('accepts a gzip-compressed ESP8266 sketch and a filesystem image with its version', async () => {
    const gz = gzipSync(buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=3.0.0'] }));
    expect((await api(t.url, 'POST', '/api/v1/firmware', gz)).status).toBe(201);
    const fs = Buffer.alloc(16 * 1024, 0xff);
    fs.write('littlefs', 8, 'latin1');
    const missing = await api<{ error: string; message: string }>(
      t.url,
      'POST',
      '/api/v1/platforms/Porch/firmware',
      fs,
    );
    expect(missing.json.message).toContain('filesystem image states no version');
    // Issue 12 §1: "fs-1" is a label, not a version, so it must be marked as one; a version the uploader gave is
    // kept, not released by itself, and a person releases it.
    const notVersion = await api(t.url, 'POST', '/api/v1/platforms/Porch/firmware?version=fs-1', fs);
    expect(notVersion).toMatchObject({ status: 400, json: { error: 'invalid-version' } });
    const ok = await api<{ image: ImageJson; released: boolean; release: { code: string } }>(
      t.url,
      'POST',
      '/api/v1/platforms/Porch/firmware?version=fs-1&label=true',
      fs,
    );
    expect(ok.json).toMatchObject({
      released: false,
      release: { code: 'version-given' },
      image: { kind: 'filesystem', version: 'fs-1' },
    });
    const released = await api<{ releasedFilesystemId: number }>(
      t.url,
      'POST',
      `/api/v1/firmware/${ok.json.image.id}/release`,
    );
    expect(released.json.releasedFilesystemId).toBe(ok.json.image.id);
  });

  it('issue 11.8: refuses a sketch gzipped twice with 422 and keeps nothing', async () => {
    const before = await blobCount();
    const sketch = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=3.1.0'] });
    const response = await api<{ error: string; message: string; details: { analysis: { code: string } } }>(
      t.url,
      'POST',
      '/api/v1/firmware',
      gzipSync(gzipSync(sketch)),
    );
    expect(response).toMatchObject({
      status: 422,
      json: { error: 'firmware-rejected', details: { analysis: { code: 'nested-gzip' } } },
    });
    expect(response.json.message).toMatch(/inflates.*once/);
    expect(await blobCount()).toBe(before);
    expect(readdirSync(t.stagingDir)).toEqual([]);
  });

  it('releases, refuses to delete the released image, deletes an old one', async () => {
    const list = await api<{ images: ImageJson[] }>(t.url, 'GET', '/api/v1/platforms/Porch/firmware');
    const released = list.json.images.find((i) => i.released && i.kind === 'app')!;
    const old = list.json.images.find((i) => i.version === '1.5.0')!;
    expect((await api<{ error: string }>(t.url, 'DELETE', `/api/v1/firmware/${released.id}`)).json.error).toBe(
      'image-released',
    );
    expect((await api(t.url, 'DELETE', `/api/v1/firmware/${old.id}`)).status).toBe(204);
    expect((await api(t.url, 'GET', `/api/v1/firmware/${old.id}`)).status).toBe(404);
    expect((await api(t.url, 'DELETE', `/api/v1/firmware/${old.id}`)).status).toBe(404);
    expect((await api(t.url, 'GET', '/api/v1/firmware/abc')).status).toBe(400);
  });

  it('lists events newest first with paging', async () => {
    const page1 = await api<{ events: { id: number; type: string }[]; next: number }>(
      t.url,
      'GET',
      '/api/v1/events?platform=Porch&limit=2',
    );
    expect(page1.json.events).toHaveLength(2);
    const page2 = await api<{ events: { id: number }[] }>(
      t.url,
      'GET',
      `/api/v1/events?platform=Porch&limit=2&before=${page1.json.next}`,
    );
    expect(page2.json.events[0]!.id).toBeLessThan(page1.json.events[1]!.id);
    expect((await api(t.url, 'GET', '/api/v1/events?limit=0')).status).toBe(400);
  });

  it('gives the events after an id: the next ones up, newest first like every page (esp-ota events -f)', async () => {
    type Page = { events: { id: number }[] };
    const newest = (await api<Page>(t.url, 'GET', '/api/v1/events?platform=Porch&limit=3')).json.events;
    expect(newest).toHaveLength(3);
    const oldestOfThem = newest[2]!.id;
    const after = (await api<Page>(t.url, 'GET', `/api/v1/events?platform=Porch&after=${oldestOfThem}&limit=1`)).json
      .events;
    expect(after.map((e) => e.id)).toEqual([newest[1]!.id]); // the next one up, not the newest
    const rest = (await api<Page>(t.url, 'GET', `/api/v1/events?platform=Porch&after=${oldestOfThem}`)).json.events;
    expect(rest.map((e) => e.id)).toEqual([newest[0]!.id, newest[1]!.id]);
    expect((await api<Page>(t.url, 'GET', `/api/v1/events?after=${newest[0]!.id + 1000}`)).json.events).toEqual([]);
    expect((await api(t.url, 'GET', '/api/v1/events?after=abc')).status).toBe(400);
  });

  it('serves the OpenAPI description', async () => {
    const spec = await api<{ paths: Record<string, unknown> }>(t.url, 'GET', '/api/docs/json');
    expect(Object.keys(spec.json.paths)).toEqual(
      expect.arrayContaining(['/api/v1/platforms', '/api/v1/firmware', '/api/v1/devices', '/api/v1/events']),
    );
  });
});

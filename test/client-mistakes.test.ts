import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, AUTH } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const BOUNDARY = 'mistake-boundary';
const IMAGE = buildEsp8266App({ strings: ['ESP-OTA:platform=Mistakes;version=1.0.0'] });

function multipartBody(fields: Record<string, string>, file: Buffer, filename = 'firmware.bin'): Buffer {
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** Each mistake from issue 11, one by one: a 4xx that says why, on both stores, and nothing kept or lost. */
describeEachStore('issue 11: client mistakes are 4xx with a reason, never 500', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store);
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Mistakes', chip: 'esp8266' });
    await api(t.url, 'POST', '/api/v1/platforms/Mistakes/allowlist', { mac: '5CCF7F000001' });
  });
  afterAll(() => t.stop());

  const send = async (method: string, path: string, body?: string | Buffer, type?: string) => {
    const response = await fetch(t.url + path, {
      method,
      body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
      redirect: 'manual',
      headers: { ...AUTH, ...(type ? { 'content-type': type } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };
  const json = (text: string) => JSON.parse(text) as { error: string; message: string };

  it('refuses multipart bodies without a boundary or cut short, on the API and the upload page', async () => {
    const whole = multipartBody({ version: '1.0.0' }, IMAGE);
    const cutShort = whole.subarray(0, whole.length - 200);
    for (const path of ['/api/v1/firmware', '/upload']) {
      const noBoundary = await send('POST', path, whole, 'multipart/form-data');
      expect(noBoundary.status, path).toBe(400);
      expect(noBoundary.text, path).toContain('Boundary not found');
      const truncated = await send('POST', path, cutShort, `multipart/form-data; boundary=${BOUNDARY}`);
      expect(truncated.status, path).toBe(400);
      expect(truncated.text, path).toContain('the multipart body ended before the file did');
    }
    expect(readdirSync(t.stagingDir)).toEqual([]);
    expect((await api<{ images: unknown[] }>(t.url, 'GET', '/api/v1/platforms/Mistakes/firmware')).json.images).toEqual(
      [],
    );
  });

  it('refuses NUL and broken Unicode in multipart fields and file names', async () => {
    const type = `multipart/form-data; boundary=${BOUNDARY}`;
    const nulVersion = await send('POST', '/api/v1/firmware', multipartBody({ version: '1.0\u0000' }, IMAGE), type);
    expect(nulVersion.status).toBe(400);
    expect(json(nulVersion.text).message).toBe('the multipart field "version" contains a NUL character');
    const nulName = await send('POST', '/api/v1/firmware', multipartBody({}, IMAGE, 'a\u0000.bin'), type);
    expect(nulName.status).toBe(400);
    expect(json(nulName.text).message).toBe('the file name in the multipart body contains a NUL character');
  });

  it('refuses numbers no column can hold, before they reach SQL', async () => {
    for (const path of [
      '/api/v1/events?before=1e308',
      '/api/v1/events?before=9007199254740993',
      '/api/v1/events?before=2147483648',
      '/api/v1/events?limit=Infinity',
      '/api/v1/devices?seenWithinHours=1e308',
      '/api/v1/devices?seenWithinHours=Infinity',
      '/api/v1/firmware/2147483648',
      '/api/v1/firmware/9007199254740993',
      '/api/v1/firmware/Infinity',
    ]) {
      const answer = await send('GET', path);
      expect(answer.status, path).toBe(400);
      expect(json(answer.text).error, path).toBe('bad-request');
    }
    expect((await send('GET', '/api/v1/events?before=2147483647')).status).toBe(200);
    expect((await send('DELETE', '/api/v1/tokens/4294967296')).status).toBe(400);
    expect((await send('POST', '/api/v1/firmware/1e308/release')).status).toBe(400);
    const huge = await api(t.url, 'PATCH', '/api/v1/platforms/Mistakes', { fsPartitionSize: 1e308 });
    expect(huge.status).toBe(400);
  });

  it('treats ids in page paths that no row can have as unknown', async () => {
    for (const id of ['NaN', '1e308', '2147483648', '-1']) {
      const release = await send('POST', `/platforms/Mistakes/images/${id}/release`);
      expect(release.status, id).toBe(404);
      expect(release.text, id).toContain('there is no firmware image');
      const revoke = await send('POST', `/account/tokens/${id}/revoke`);
      expect(revoke.status, id).toBe(404);
    }
    expect((await send('GET', '/events?before=1e308')).status).toBe(200);
  });

  it('refuses NUL and unpaired surrogates in every text that reaches SQL', async () => {
    const bodies: [string, string, unknown][] = [
      ['POST', '/api/v1/platforms', { name: 'Broken\ud800' }],
      ['POST', '/api/v1/platforms', { name: 'Nul', deviceUser: 'a\u0000' }],
      ['POST', '/api/v1/platforms/Mistakes/allowlist', { mac: '5CCF7F000002', label: 'a\u0000b' }],
      ['POST', '/api/v1/platforms/Mistakes/allowlist', { mac: '5CCF7F000003', label: 'a\udc00b' }],
      ['POST', '/api/v1/tokens', { name: 'ci\u0000', role: 'viewer' }],
    ];
    for (const [method, path, body] of bodies) {
      const answer = await api<{ error: string; message: string }>(t.url, method, path, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.message, JSON.stringify(body)).toMatch(/contains (a NUL character|broken Unicode)/);
    }
    for (const path of [
      '/api/v1/platforms/a%00b',
      '/api/v1/events?type=%00',
      '/api/v1/events?platform=%00',
      '/api/v1/events?decision=a%00',
      '/api/v1/devices?platform=%00',
      '/devices?q=%00',
    ]) {
      const answer = await send('GET', path);
      expect(answer.status, path).toBe(400);
      expect(answer.text, path).toContain('contains a NUL character');
    }
    const login = await fetch(`${t.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=admin%00&password=whatever-it-is',
    });
    expect(login.status).toBe(400);
    const names = (await api<{ platforms: { name: string }[] }>(t.url, 'GET', '/api/v1/platforms')).json.platforms;
    expect(names.map((p) => p.name)).toEqual(['Mistakes']);
  });

  it('answers paths that are not valid percent-encoding in the shape of their audience', async () => {
    const api400 = await send('GET', '/api/v1/platforms/%ZZ');
    expect(api400.status).toBe(400);
    expect(json(api400.text)).toEqual({
      error: 'bad-request',
      message: 'the path is not valid percent-encoded UTF-8',
    });
    const page = await send('GET', '/platforms/%ED%A0%80');
    expect(page.status).toBe(400);
    expect(page.type).toContain('text/html');
    expect(page.text).toContain('the path is not valid percent-encoded UTF-8');
  });

  it('refuses form posts whose fields are not text, whatever carried them', async () => {
    const noBody = await send('POST', '/platforms');
    expect(noBody.status).toBe(400);
    expect(noBody.text).toContain('a platform name is');
    const nested = await send('POST', '/platforms/Mistakes/settings', '{"chip":{"a":1}}', 'application/json');
    expect(nested.status).toBe(400);
    expect(nested.text).toContain('the body must be form fields');
    const twice = await send('GET', '/events?mac=5CCF7F000001&mac=x');
    expect(twice.status).toBe(400);
    expect(twice.text).toContain('mac&quot; is given more than once');
  });

  it('refuses a chip string that is not a chip, on create and change, REST and UI', async () => {
    const created = await api<{ message: string }>(t.url, 'POST', '/api/v1/platforms', { name: 'C', chip: 'esp99' });
    expect(created.status).toBe(400);
    expect(created.json.message).toContain('unknown chip "esp99"');
    expect((await api(t.url, 'PATCH', '/api/v1/platforms/Mistakes', { chip: 'arduino' })).status).toBe(400);
    const form = 'application/x-www-form-urlencoded';
    const uiCreate = await send('POST', '/platforms', 'name=C&chip=esp99', form);
    expect(uiCreate.status).toBe(400);
    expect(uiCreate.text).toContain('unknown chip');
    const uiChange = await send('POST', '/platforms/Mistakes/settings', 'chip=avr', form);
    expect(uiChange.status).toBe(400);
    expect(uiChange.text).toContain('unknown chip');
    const platform = await api<{ chip: string }>(t.url, 'GET', '/api/v1/platforms/Mistakes');
    expect(platform.json.chip).toBe('esp8266');
  });

  it('refuses a device check whose platform name is not text, and keeps the good checks of the same batch', async () => {
    for (const path of ['/update?dev=a%00b&ver=1.0.0', '/ota/a%00b/app.bin', '/update?dev=%01&ver=1.0.0']) {
      const answer = await send('GET', path);
      expect(answer.status, path).toBe(400);
      expect(answer.type, path).toContain('text/plain');
      expect(answer.text, path).toMatch(/the platform name (in dev=|in the path) contains/);
    }
    expect((await send('GET', '/ota/Mistakes/app.bin?mac=5CCF7F000001')).status).toBeLessThan(500);
    await t.app.flushActivity();
    const events = await api<{ events: { platform: string }[] }>(t.url, 'GET', '/api/v1/events?type=first-seen');
    expect(events.json.events.map((e) => e.platform)).toContain('Mistakes');
  });
});

describeEachStore('issue 11: a device with an unreadable platform name does not cost others their events', (store) => {
  it('writes the batch a hostile check would have been in', async () => {
    const t = await startTestApp(store, { eventFlushMs: 60_000 });
    try {
      await api(t.url, 'POST', '/api/v1/platforms', { name: 'Batch', accessMode: 'open' });
      await fetch(`${t.url}/update?dev=Batch&ver=1.0.0`, { headers: { 'x-esp8266-sta-mac': '5C:CF:7F:00:00:42' } });
      await fetch(`${t.url}/ota/Nul%00Name/app.bin`);
      await t.app.flushActivity();
      const events = await api<{ events: { platform: string }[] }>(t.url, 'GET', '/api/v1/events?type=first-seen');
      expect(events.json.events.map((e) => e.platform)).toEqual(['Batch']);
    } finally {
      await t.stop();
    }
  });
});

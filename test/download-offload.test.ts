import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { CORPUS_AVAILABLE, CORPUS_SKIP_REASON, firmwareOfKind, readFirmware } from './helpers/firmware-corpus.js';
import { api } from './helpers/http.js';
import { NGINX_AVAILABLE, NGINX_SKIP_REASON, startNginx, type Nginx } from './helpers/nginx-front.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

describe('downloadOffload configuration', () => {
  it('is refused with PostgreSQL, where images are not files', () => {
    expect(() =>
      loadConfig({ env: { ESP_OTA_DOWNLOAD_OFFLOAD: '/_blobs/', ESP_OTA_DATABASE_URL: 'postgres://db/esp' } }),
    ).toThrow(/ESP_OTA_DOWNLOAD_OFFLOAD: needs image files in the data folder.*PostgreSQL/);
  });

  it('must be a path that starts and ends with /', () => {
    for (const bad of ['_blobs/', '/_blobs', '/a b/', 'http://x/'])
      expect(() => loadConfig({ env: { ESP_OTA_DOWNLOAD_OFFLOAD: bad } }), bad).toThrow(ConfigError);
    expect(loadConfig({ env: { ESP_OTA_DOWNLOAD_OFFLOAD: '/_blobs/' } }).downloadOffload).toBe('/_blobs/');
  });
});

/**
 * Behind nginx, the server decides and counts, and nginx sends the file (X-Accel-Redirect to an internal location
 * over the blob folder): a board gets the very bytes, digest and length it would get from the server itself.
 */
const runs = NGINX_AVAILABLE && CORPUS_AVAILABLE;
describe.skipIf(!runs)(
  `image downloads offloaded to nginx${runs ? '' : ` — ${NGINX_AVAILABLE ? CORPUS_SKIP_REASON : NGINX_SKIP_REASON}`}`,
  () => {
    let t: TestApp;
    let nginx: Nginx;
    const row = CORPUS_AVAILABLE ? firmwareOfKind('esp8266-app', (r) => Number(r.bytes) > 800_000) : undefined;
    const image = row ? readFirmware(row.file) : Buffer.alloc(0);
    const device = (version: string, extra: Record<string, string> = {}) => ({
      'user-agent': 'ESP8266-http-Update',
      'x-esp8266-sta-mac': '5C:CF:7F:AA:BB:01',
      'x-esp8266-version': version,
      'x-esp8266-free-space': '3000000',
      'x-esp8266-chip-size': String(16 * 1024 * 1024),
      ...extra,
    });

    beforeAll(async () => {
      t = await startTestApp('sqlite', { downloadOffload: '/_blobs/' });
      nginx = await startNginx(
        join(t.dataDir, 'nginx'),
        `    location / { proxy_pass ${t.url}; proxy_set_header Host $host; }
    location /_blobs/ {
      internal; alias ${t.dataDir}/blobs/; default_type application/octet-stream; etag off;
      add_header x-MD5 $upstream_http_x_md5; add_header x-SHA256 $upstream_http_x_sha256;
      add_header x-version $upstream_http_x_version; add_header x-ota-reason $upstream_http_x_ota_reason;
    }`,
      );
      await api(t.url, 'POST', '/api/v1/platforms', { name: 'Offload', accessMode: 'open' });
      const upload = await api(t.url, 'POST', '/api/v1/firmware?platform=Offload&version=2.0.0&release=true', image);
      expect(upload.status).toBe(201);
    });
    afterAll(async () => {
      await nginx?.stop();
      await t?.stop();
    });

    it('serves the image byte for byte with its x-MD5 and Content-Length, and counts the download', async () => {
      const response = await fetch(`${nginx.url}/update?dev=Offload&ver=1.0.0`, { headers: device('1.0.0') });
      const body = Buffer.from(await response.arrayBuffer());
      expect(response.status).toBe(200);
      expect(body.equals(image)).toBe(true);
      expect(response.headers.get('x-md5')).toBe(md5(image));
      expect(response.headers.get('content-length')).toBe(String(image.length));
      expect(response.headers.get('x-version')).toBe('2.0.0');
      expect(response.headers.get('x-accel-redirect')).toBeNull();

      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/^esp_ota_downloads_total 1$/m);
      expect(metrics).toMatch(new RegExp(`^esp_ota_download_bytes_total ${image.length}$`, 'm'));
      await t.app.flushActivity();
      const { json } = await api<{ events: { type: string; mac: string }[] }>(
        t.url,
        'GET',
        '/api/v1/events?mac=5CCF7FAABB01',
      );
      expect(json.events.map((e) => e.type)).toContain('download');
    });

    it('leaves the bytes to nginx: the server itself answers with X-Accel-Redirect into the blob folder', async () => {
      const sha = createHash('sha256').update(image).digest('hex');
      const response = await fetch(`${t.url}/update?dev=Offload&ver=1.0.0`, { headers: device('1.0.0') });
      expect(response.headers.get('x-accel-redirect')).toBe(`/_blobs/${sha.slice(0, 2)}/${sha}`);
      expect(response.headers.get('x-md5')).toBe(md5(image));
      expect((await response.arrayBuffer()).byteLength).toBe(0);
    });

    it('answers a Range from the file, and a current board still gets 304 from the server', async () => {
      const range = await fetch(`${nginx.url}/update?dev=Offload&ver=1.0.0`, {
        headers: device('1.0.0', { range: 'bytes=1000-1999' }),
      });
      expect(range.status).toBe(206);
      expect(Buffer.from(await range.arrayBuffer()).equals(image.subarray(1000, 2000))).toBe(true);

      const current = await fetch(`${nginx.url}/update?dev=Offload&ver=2.0.0`, { headers: device('2.0.0') });
      expect(current.status).toBe(304);
    });

    it('keeps the blob folder internal: it cannot be fetched directly', async () => {
      const sha = createHash('sha256').update(image).digest('hex');
      const direct = await fetch(`${nginx.url}/_blobs/${sha.slice(0, 2)}/${sha}`);
      expect(direct.status).toBe(404);
    });
  },
);

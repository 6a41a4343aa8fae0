import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { listRoutes } from '../src/http/server.js';
import { api } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

describe('Prometheus metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { metricsToken: 's3cret-token' });
  });
  afterAll(() => t.stop());

  const scrape = async (token = 's3cret-token') => {
    const response = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, text: await response.text() };
  };

  it('refuses a scrape without the token', async () => {
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    expect((await scrape('wrong-token!')).status).toBe(401);
  });

  it('counts checks by decision, downloads and bytes, uploads and rejections, and devices seen', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Metered', accessMode: 'open' });
    const image = buildEsp8266App({ strings: ['ESP-OTA:platform=Metered;version=1.0.0'] });
    await api(t.url, 'POST', '/api/v1/firmware', image);
    await api(t.url, 'POST', '/api/v1/firmware', Buffer.from('not firmware'));
    const headers = { 'x-esp8266-sta-mac': '02:00:00:00:00:09' };
    await fetch(`${t.url}/update?dev=Metered&ver=0.9.0`, { headers });
    await fetch(`${t.url}/update?dev=Metered&ver=0.9.0`, { headers });
    await fetch(`${t.url}/update?dev=Metered&ver=1.0.0`, { headers });
    await t.app.flushActivity();

    const { status, text } = await scrape();
    expect(status).toBe(200);
    expect(text).toMatch(/^esp_ota_device_checks_total\{decision="serve",reason="newer-version"\} 2$/m);
    expect(text).toMatch(/^esp_ota_device_checks_total\{decision="not-modified",reason="current"\} 1$/m);
    expect(text).toMatch(/^esp_ota_downloads_total 2$/m);
    expect(text).toMatch(new RegExp(`^esp_ota_download_bytes_total ${image.length * 2}$`, 'm'));
    expect(text).toMatch(/^esp_ota_uploads_total\{result="accepted"\} 1$/m);
    expect(text).toMatch(/^esp_ota_uploads_total\{result="firmware-rejected"\} 1$/m);
    expect(text).toMatch(/^esp_ota_devices_seen\{window="1h"\} 1$/m);
    expect(text).toMatch(/^esp_ota_event_queue_depth 0$/m);
    expect(text).toMatch(
      /^esp_ota_http_request_duration_seconds_count\{route="\/update",method="GET",status="2xx"\} 2$/m,
    );

    // Counts taken at one scrape are not counted again at the next, and later checks add to them.
    await fetch(`${t.url}/update?dev=Metered&ver=1.0.0`, { headers });
    const again = (await scrape()).text;
    expect(again).toMatch(/^esp_ota_device_checks_total\{decision="serve",reason="newer-version"\} 2$/m);
    expect(again).toMatch(/^esp_ota_device_checks_total\{decision="not-modified",reason="current"\} 2$/m);
    expect(again).toMatch(
      /^esp_ota_http_request_duration_seconds_count\{route="\/update",method="GET",status="3xx"\} 2$/m,
    );
  });
});

/** Issue 11.4: labels come from a closed set (route templates, methods, status classes), never from request text. */
describe('Prometheus metric labels', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(() => t.stop());

  const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'];
  const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

  /** Every series of a metric, as its labels. */
  async function series(metric: string): Promise<Record<string, string>[]> {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const found: Record<string, string>[] = [];
    for (const match of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} `, 'gm'))) {
      found.push(Object.fromEntries([...match[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]])));
    }
    return found;
  }

  /** Requests whose path and method are all different and hostile: unmatched, undecodable, unknown methods. */
  async function hostileRequests(batch: number) {
    for (let n = 0; n < 40; n++) {
      const tag = `${batch}-${n}`;
      await fetch(`${t.url}/ota/%ZZ${tag}/app.bin`);
      await fetch(`${t.url}/ota/%ZZ${tag}/filesystem.bin`, { method: 'HEAD' });
      await fetch(`${t.url}/no-such-page-${tag}`);
      await fetch(`${t.url}/api/v1/platforms/ghost-${tag}`);
      await fetch(`${t.url}/%ZZ${tag}`);
      await fetch(`${t.url}/update?dev=ghost-${tag}&ver=${tag}`, {
        headers: { 'x-esp8266-sta-mac': '02:00:00:00:00:01' },
      });
      for (const method of ['PROPFIND', 'MKCOL', 'PURGE', 'FOO', 'DELETE', 'OPTIONS']) {
        await fetch(`${t.url}/update-${method}-${tag}`, { method }).catch(() => undefined);
      }
    }
  }

  it('keeps the set of series closed however many distinct paths and methods arrive (issue 11.4)', async () => {
    await series('esp_ota_http_request_duration_seconds_count'); // a scrape is counted after it answers
    await hostileRequests(1);
    const routes = new Set([...listRoutes(t.app.http).map((r) => r.url), 'unmatched']);
    const first = await series('esp_ota_http_request_duration_seconds_count');
    expect(first.length).toBeGreaterThan(3);
    for (const labels of first) {
      expect(routes, JSON.stringify(labels)).toContain(labels.route);
      expect(KNOWN_METHODS, JSON.stringify(labels)).toContain(labels.method);
      expect(STATUS_CLASSES, JSON.stringify(labels)).toContain(labels.status);
    }
    // Another batch of new paths adds no series: the label values are the same closed set.
    const firstChecks = await series('esp_ota_device_checks_total');
    expect(firstChecks.length).toBeGreaterThan(0);
    await hostileRequests(2);
    const second = await series('esp_ota_http_request_duration_seconds_count');
    expect(second.map((l) => JSON.stringify(l)).sort()).toEqual(first.map((l) => JSON.stringify(l)).sort());
    const secondChecks = await series('esp_ota_device_checks_total');
    expect(secondChecks.map((l) => JSON.stringify(l)).sort()).toEqual(firstChecks.map((l) => JSON.stringify(l)).sort());
  });
});

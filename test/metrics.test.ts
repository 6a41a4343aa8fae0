import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
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
    await t.app.recorder.flush();

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

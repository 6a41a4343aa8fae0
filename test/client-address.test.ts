import { afterEach, describe, expect, it } from 'vitest';
import { api } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

/** The inventory keeps each device's address: the socket's, or X-Forwarded-For's only behind a trusted proxy. */
describe('device addresses', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.stop());

  async function recordedIp(trustProxy: boolean, forwardedFor = '203.0.113.7, 10.0.0.2'): Promise<string | null> {
    t = await startTestApp('sqlite', { trustProxy });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Proxied', accessMode: 'open' });
    const response = await fetch(`${t.url}/update?dev=Proxied&ver=1.0.0`, {
      headers: { 'x-esp8266-sta-mac': '02:00:00:00:00:42', 'x-forwarded-for': forwardedFor },
    });
    expect(response.status).toBe(304);
    await t.app.recorder.flush();
    const [device] = await t.app.catalogue.stores.devices.list({ limit: 10 });
    return device!.ip;
  }

  it('takes the socket address when no proxy is trusted (a device could claim any address)', async () => {
    expect(await recordedIp(false)).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it('takes the client named by X-Forwarded-For behind a trusted proxy', async () => {
    expect(await recordedIp(true)).toBe('203.0.113.7');
  });

  it('answers a garbled X-Forwarded-For and keeps what it names as text', async () => {
    expect(await recordedIp(true, ' , not-an-address,,')).toBe('not-an-address');
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp8266Request, rawRequest } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const PLATFORM_SECRET = 'platform-secret-0123456789';
const DEVICE_SECRET = 'device-secret-abcdefghij';
const MAC = '5C:CF:7F:00:00:AA';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describeEachStore('device authentication', (store) => {
  let t: TestApp;
  let host: string;
  beforeAll(async () => {
    t = await startTestApp(store);
    host = new URL(t.url).host;
    await api(t.url, 'POST', '/api/v1/platforms', {
      name: 'Locked',
      accessMode: 'open',
      deviceAuth: 'basic',
      deviceUser: 'fleet',
      deviceSecret: PLATFORM_SECRET,
    });
    await api(t.url, 'POST', '/api/v1/platforms', {
      name: 'Tokened',
      accessMode: 'allowlist',
      deviceAuth: 'token',
      deviceSecret: PLATFORM_SECRET,
    });
    await api(t.url, 'POST', '/api/v1/platforms/Tokened/allowlist', { mac: MAC });
    for (const name of ['Locked', 'Tokened']) {
      await api(
        t.url,
        'POST',
        '/api/v1/firmware',
        buildEsp8266App({ strings: [`ESP-OTA:platform=${name};version=2.0.0`] }),
      );
    }
  });
  afterAll(() => t.stop());

  const check = (platform: string, authorization?: string, extraQuery = '') =>
    rawRequest(
      t.url,
      esp8266Request(host, `/update?dev=${platform}&ver=v1.0.0${extraQuery}`, {
        mac: MAC,
        version: 'v1.0.0',
        ...(authorization ? { authorization } : {}),
      }),
    );

  it('answers 401 with a Basic challenge when the device sends no credentials', async () => {
    const response = await check('Locked');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')?.[0]).toContain('Basic realm=');
    expect(response.headers.get('x-ota-reason')).toEqual(['auth-required']);
  });

  it('accepts HTTP Basic exactly as the Arduino client sends it, refuses a wrong password with 403', async () => {
    const ok = await check('Locked', basic('fleet', PLATFORM_SECRET));
    expect(ok.status).toBe(200);
    const wrong = await check('Locked', basic('fleet', 'not-the-secret-at-all'));
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('x-ota-reason')).toEqual(['bad-credentials']);
  });

  it('accepts a token as header, query parameter, Bearer, or ESP8266 setAuthorization(token)', async () => {
    expect((await check('Tokened')).status).toBe(401);
    expect((await check('Tokened', `Basic ${PLATFORM_SECRET}`)).status).toBe(200);
    expect((await check('Tokened', `Bearer ${PLATFORM_SECRET}`)).status).toBe(200);
    expect((await check('Tokened', undefined, `&token=${PLATFORM_SECRET}`)).status).toBe(200);
    expect((await check('Tokened', 'Bearer wrong-token-wrong-token')).status).toBe(403);
  });

  it('gives one device its own secret', async () => {
    expect(
      (
        await api(t.url, 'PUT', `/api/v1/platforms/Tokened/allowlist/${encodeURIComponent(MAC)}/secret`, {
          secret: DEVICE_SECRET,
        })
      ).status,
    ).toBe(204);
    t.app.view.invalidate();
    expect((await check('Tokened', `Bearer ${DEVICE_SECRET}`)).status).toBe(200);
    // Another device cannot use it.
    const other = await rawRequest(
      t.url,
      esp8266Request(host, '/update?dev=Tokened&ver=v1.0.0', {
        mac: '5C:CF:7F:00:00:BB',
        authorization: `Bearer ${DEVICE_SECRET}`,
      }),
    );
    expect(other.status).toBe(403);
  });

  it('logs refused credentials as events and never exposes secrets', async () => {
    await t.app.flushActivity();
    const events = await api<{ events: { reason: string }[] }>(t.url, 'GET', '/api/v1/events?platform=Locked');
    expect(events.json.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['auth-required', 'bad-credentials']),
    );
    const platform = await api<Record<string, unknown>>(t.url, 'GET', '/api/v1/platforms/Locked');
    expect(platform.json).toMatchObject({ deviceAuth: 'basic', deviceUser: 'fleet', deviceSecretSet: true });
    expect(JSON.stringify(platform.json)).not.toContain(PLATFORM_SECRET);
  });

  it('refuses weak or incomplete device credentials', async () => {
    expect((await api(t.url, 'PATCH', '/api/v1/platforms/Locked', { deviceSecret: 'short' })).status).toBe(400);
    expect(
      (
        await api(t.url, 'POST', '/api/v1/platforms', {
          name: 'Half',
          deviceAuth: 'basic',
          deviceSecret: PLATFORM_SECRET,
        })
      ).status,
    ).toBe(400);
  });

  it('issue 11: per-device Basic login takes the MAC as WiFi.macAddress() prints it, or with dashes, or bare', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', {
      name: 'PerDevice',
      accessMode: 'allowlist',
      deviceAuth: 'basic',
      deviceUser: 'fleet',
      deviceSecret: PLATFORM_SECRET,
    });
    await api(t.url, 'POST', '/api/v1/platforms/PerDevice/allowlist', { mac: MAC });
    const other = '5C:CF:7F:00:00:BB';
    await api(t.url, 'POST', '/api/v1/platforms/PerDevice/allowlist', { mac: other });
    await api(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=PerDevice;version=2.0.0'] }),
    );
    const secret = await api(t.url, 'PUT', `/api/v1/platforms/PerDevice/allowlist/${encodeURIComponent(MAC)}/secret`, {
      secret: DEVICE_SECRET,
    });
    expect(secret.status).toBe(204);
    // ESP8266HTTPClient's setAuthorization(WiFi.macAddress().c_str(), secret): the MAC's colons meet Basic's own.
    for (const user of [MAC, MAC.toLowerCase(), MAC.replaceAll(':', '-'), MAC.replaceAll(':', '')]) {
      const response = await check('PerDevice', basic(user, DEVICE_SECRET));
      expect(response.status, user).toBe(200);
    }
    expect((await check('PerDevice', basic(MAC, 'not-the-device-secret'))).status).toBe(403);
    // Another listed device cannot log in with this one's secret, in any form of its own MAC.
    const asOther = await rawRequest(
      t.url,
      esp8266Request(host, '/update?dev=PerDevice&ver=v1.0.0', {
        mac: other,
        version: 'v1.0.0',
        authorization: basic(other, DEVICE_SECRET),
      }),
    );
    expect(asOther.status).toBe(403);
    expect((await check('PerDevice', basic(other, DEVICE_SECRET))).status).toBe(403);
  });
});

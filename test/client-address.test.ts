import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { api, requestFrom } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

/**
 * The inventory keeps each device's address and the login limiter counts per address: the socket's, or the one
 * X-Forwarded-For names, followed only through proxies the configuration trusts. The server listens on 127.0.0.1;
 * clients connect from 127.0.0.1 or 127.0.0.2 (Linux loopback accepts all of 127/8), so both sides are real sockets.
 */
describe('client addresses behind trusted proxies (issue 11)', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.stop());

  /** The setting as a person writes it (`--trust-proxy …`). */
  const trusting = (setting: string) => loadConfig({ env: {}, flags: { trustProxy: setting } }).trustProxy;

  async function recordedIp(trustProxy: string, forwardedFor: string, from = '127.0.0.1'): Promise<string | null> {
    t = await startTestApp('sqlite', { trustProxy: trusting(trustProxy) });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Proxied', accessMode: 'open' });
    const response = await requestFrom(from, `${t.url}/update?dev=Proxied&ver=1.0.0`, {
      headers: { 'x-esp8266-sta-mac': '02:00:00:00:00:42', 'x-forwarded-for': forwardedFor },
    });
    expect(response.status).toBe(304);
    await t.app.flushActivity();
    const [device] = await t.app.catalogue.stores.devices.list({ limit: 10 });
    return device!.ip;
  }

  it('takes the socket address when no proxy is trusted (a device could claim any address)', async () => {
    expect(await recordedIp('false', '203.0.113.7')).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it('issue 11: trusts X-Forwarded-For from a loopback proxy (what trustProxy: true means)', async () => {
    expect(await recordedIp('true', '203.0.113.7')).toBe('203.0.113.7');
  });

  it('issue 11: stops at the first address it does not trust, so a client cannot prepend its own', async () => {
    // nginx appends the client it saw: "<what the client claimed>, <client>".
    expect(await recordedIp('true', '198.51.100.1, 203.0.113.7')).toBe('203.0.113.7');
  });

  it('issue 11: follows the chain through every proxy in the list', async () => {
    expect(await recordedIp('loopback, 10.0.0.0/8', '203.0.113.7, 10.0.0.2')).toBe('203.0.113.7');
  });

  it('issue 11: ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    expect(await recordedIp('127.0.0.1', '203.0.113.7', '127.0.0.2')).toBe('127.0.0.2');
  });

  it('issue 11: counts failed logins per real address, however the client fills X-Forwarded-For', async () => {
    t = await startTestApp('sqlite', { trustProxy: trusting('true') });
    const statuses: number[] = [];
    for (let n = 0; n < 6; n++) {
      // As nginx forwards it: whatever the client claimed, then the address nginx saw (always the same client).
      const response = await requestFrom('127.0.0.1', `${t.url}/login`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': `198.51.100.${n}, 203.0.113.9`,
        },
        // A different name each time, so only the per-address count can lock.
        body: new URLSearchParams({ username: `guess${n}`, password: 'wrong-password-0' }).toString(),
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  }, 60_000);
});

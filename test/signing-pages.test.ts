import { afterAll, beforeAll, expect, it } from 'vitest';
import { describe } from 'vitest';
import { api, loginSession } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { OpenSsl, type TestKey } from './synthetic/openssl.js';
import { publicKeyOf, signEsp8266 } from './synthetic/signed-images.js';

/** The platform page shows the trusted keys and each image's signature state (issue 17 §5). */
describe('signing on the pages', () => {
  let t: TestApp;
  let openssl: OpenSsl;
  let key: TestKey;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    openssl = OpenSsl.create();
    key = openssl.rsaKey(2048);
  });
  afterAll(async () => {
    await t?.stop();
    openssl?.dispose();
  });

  it('lists the keys and each image’s signature state on the platform page', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Pages', accessMode: 'open' });
    await api(t.url, 'POST', '/api/v1/platforms/Pages/firmware?version=0.9.0', buildEsp8266App({ strings: ['p 0.9'] }));
    await api(t.url, 'POST', '/api/v1/platforms/Pages/keys', { pem: key.publicPem, label: 'release key' });
    const signed = signEsp8266(openssl, key, buildEsp8266App({ strings: ['p 1.0'] }));
    expect((await api(t.url, 'POST', '/api/v1/platforms/Pages/firmware?version=1.0.0', signed)).status).toBe(201);

    const { cookie } = await loginSession(t.url);
    const page = await (await fetch(`${t.url}/platforms/Pages`, { headers: { cookie } })).text();
    expect(page).toContain(`data-key-digest="${publicKeyOf(key).digest}"`);
    expect(page).toContain('release key');
    const states = [...page.matchAll(/data-signature-state="([a-z]+)"/g)].map((m) => m[1]);
    expect(states.sort()).toEqual(['unsigned', 'verified']);
  });
});

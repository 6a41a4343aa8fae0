import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { api } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { OpenSsl, type TestKey } from './synthetic/openssl.js';
import { publicKeyOf, signEsp8266 } from './synthetic/signed-images.js';

/**
 * Warn before bricking (issue 17 §4): moving boards to an image signed by another key than the deployed one needs
 * a confirmation on release and on rollout start (409 `key-change-unconfirmed` otherwise), an upload does not
 * release it by itself, and the rollout shows the change.
 */
let openssl: OpenSsl;
let oldKey: TestKey;
let newKey: TestKey;

beforeAll(() => {
  openssl = OpenSsl.create();
  oldKey = openssl.rsaKey(2048);
  newKey = openssl.rsaKey(2048);
});
afterAll(() => openssl?.dispose());

interface UploadJson {
  image: { id: number };
  released: boolean;
  release: { code: string; reason: string };
}

describeEachStore('key change', (store) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp(store);
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Rotate', accessMode: 'open' });
    // During a rotation the platform trusts both keys; the boards still trust only the old one.
    for (const key of [oldKey, newKey])
      await api(t.url, 'POST', '/api/v1/platforms/Rotate/keys', { pem: key.publicPem });
  });
  afterEach(async () => t?.stop());

  const upload = (key: TestKey, version: string, query = '') =>
    api<UploadJson>(
      t.url,
      'POST',
      `/api/v1/platforms/Rotate/firmware?version=${version}${query}`,
      signEsp8266(openssl, key, buildEsp8266App({ strings: [`rotate ${version}`] })),
    );

  it('keeps an upload signed by another key unreleased, and its release needs confirmKeyChange', async () => {
    const first = await upload(oldKey, '1.0.0', '&release=true');
    expect(first.json.released).toBe(true);
    const second = await upload(newKey, '1.1.0', '&release=true');
    expect(second.status).toBe(201);
    expect(second.json).toMatchObject({ released: false, release: { code: 'key-change' } });
    expect(second.json.release.reason).toContain(publicKeyOf(oldKey).digest.slice(0, 16));

    const refused = await api<{ error: string; message: string }>(
      t.url,
      'POST',
      `/api/v1/firmware/${second.json.image.id}/release`,
    );
    expect(refused).toMatchObject({ status: 409, json: { error: 'key-change-unconfirmed' } });
    expect(refused.json.message).toMatch(/confirmKeyChange/);
    const confirmed = await api<{ releasedAppId: number }>(
      t.url,
      'POST',
      `/api/v1/firmware/${second.json.image.id}/release?confirmKeyChange=true`,
    );
    expect(confirmed).toMatchObject({ status: 200, json: { releasedAppId: second.json.image.id } });
    const events = await api<{ events: { type: string; detail: string | null }[] }>(
      t.url,
      'GET',
      '/api/v1/events?type=release',
    );
    expect(events.json.events[0]!.detail).toMatch(/key change confirmed/);

    // The same key again needs nothing.
    const third = await upload(newKey, '1.2.0', '&release=true');
    expect(third.json).toMatchObject({ released: true });
  });

  it('needs confirmKeyChange to start a rollout to another key, and the rollout shows the change', async () => {
    await upload(oldKey, '2.0.0', '&release=true');
    const next = await upload(newKey, '2.1.0');
    const start = (body: object) =>
      api<{ error?: string; keyChange?: { from: string[]; to: string[] } }>(
        t.url,
        'POST',
        '/api/v1/platforms/Rotate/rollouts',
        {
          imageId: next.json.image.id,
          ...body,
        },
      );
    expect(await start({})).toMatchObject({ status: 409, json: { error: 'key-change-unconfirmed' } });
    const started = await start({ confirmKeyChange: true });
    expect(started.status).toBe(201);
    expect(started.json.keyChange).toEqual({ from: [publicKeyOf(oldKey).digest], to: [publicKeyOf(newKey).digest] });
  });
});

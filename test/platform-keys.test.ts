import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { api } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { OpenSsl, type TestKey } from './synthetic/openssl.js';
import { publicKeyOf, signEsp8266 } from './synthetic/signed-images.js';

/**
 * Platform keys (issue 17 §2): a platform with trusted keys takes only images its boards will install, and says
 * why it refuses the others with an error code of their own, recorded as an `upload-refused` event.
 */
let openssl: OpenSsl;
let trusted: TestKey;
let foreign: TestKey;

beforeAll(() => {
  openssl = OpenSsl.create();
  trusted = openssl.rsaKey(2048);
  foreign = openssl.rsaKey(2048);
});
afterAll(() => openssl?.dispose());

interface ErrorJson {
  error: string;
  message: string;
}
interface KeyJson {
  id: number;
  digest: string;
  type: string;
  bits: number;
  pem: string;
}
interface UploadJson {
  image: { id: number; signature: { state: string; keyDigests: string[]; layout: string } };
  signature: { state: string; keyDigests: string[] };
}
interface EventJson {
  type: string;
  reason: string | null;
  actor: string | null;
  detail: string | null;
}

/** Sketches differ by a string, so each upload is new bytes. */
const sketch = (tag: string, extra: string[] = []) => buildEsp8266App({ strings: [`keys sketch ${tag}`, ...extra] });

/** The same gzip data with an FNAME field sized so the whole `.gz` (plus a signature trailer) reaches `mod4`. */
function gzipWithName(data: Buffer, nameLength: number): Buffer {
  const plain = gzipSync(data);
  const header = Buffer.from(plain.subarray(0, 10));
  header[3] = header[3]! | 0x08;
  return Buffer.concat([header, Buffer.alloc(nameLength, 0x61), Buffer.from([0]), plain.subarray(10)]);
}

describeEachStore('platform keys', (store) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp(store);
    expect((await api(t.url, 'POST', '/api/v1/platforms', { name: 'Vault', accessMode: 'open' })).status).toBe(201);
  });
  afterEach(async () => t?.stop());

  const upload = (bytes: Uint8Array, version: string) =>
    api<UploadJson & ErrorJson>(t.url, 'POST', `/api/v1/platforms/Vault/firmware?version=${version}`, bytes);
  const refusals = async () =>
    (await api<{ events: EventJson[] }>(t.url, 'GET', '/api/v1/events?type=upload-refused')).json.events;

  it('take a PEM key, list it by its digest, and refuse private keys', async () => {
    const added = await api<KeyJson>(t.url, 'POST', '/api/v1/platforms/Vault/keys', {
      pem: trusted.publicPem,
      label: 'release key',
    });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ digest: publicKeyOf(trusted).digest, type: 'rsa', bits: 2048 });
    const listed = await api<{ keys: KeyJson[] }>(t.url, 'GET', '/api/v1/platforms/Vault/keys');
    expect(listed.json.keys.map((k) => k.digest)).toEqual([publicKeyOf(trusted).digest]);

    const again = await api<ErrorJson>(t.url, 'POST', '/api/v1/platforms/Vault/keys', { pem: trusted.publicPem });
    expect(again).toMatchObject({ status: 409, json: { error: 'key-exists' } });
    const secret = await api<ErrorJson>(t.url, 'POST', '/api/v1/platforms/Vault/keys', {
      pem: openssl.readPrivate(foreign),
    });
    expect(secret).toMatchObject({ status: 400, json: { error: 'invalid-public-key' } });
    expect(secret.json.message).toMatch(/PRIVATE key/);

    const removed = await api(t.url, 'DELETE', `/api/v1/platforms/Vault/keys/${added.json.id}`);
    expect(removed.status).toBe(204);
    expect((await api<{ keys: KeyJson[] }>(t.url, 'GET', '/api/v1/platforms/Vault/keys')).json.keys).toEqual([]);
  });

  it('without keys, take any image and say what its signature is', async () => {
    const unsigned = await upload(sketch('a'), '1.0.0');
    expect(unsigned.status).toBe(201);
    expect(unsigned.json.signature).toMatchObject({ state: 'unsigned' });
    const signed = await upload(signEsp8266(openssl, foreign, sketch('b')), '1.0.1');
    expect(signed.status).toBe(201);
    expect(signed.json.image.signature).toMatchObject({ state: 'signed', layout: 'esp8266' });
  });

  it('with a key, refuse unsigned and foreign images with their own codes, recorded, and take signed ones', async () => {
    await api(t.url, 'POST', '/api/v1/platforms/Vault/keys', { pem: trusted.publicPem });

    const unsigned = await upload(sketch('c'), '2.0.0');
    expect(unsigned).toMatchObject({ status: 422, json: { error: 'unsigned-image' } });
    expect(unsigned.json.message).toMatch(/not signed/);

    const foreignSigned = await upload(signEsp8266(openssl, foreign, sketch('d')), '2.0.1');
    expect(foreignSigned).toMatchObject({ status: 422, json: { error: 'wrong-signing-key' } });
    expect(foreignSigned.json.message).toMatch(/none of the platform's 1 trusted key verifies it/);

    const good = await upload(signEsp8266(openssl, trusted, sketch('e')), '2.0.2');
    expect(good.status).toBe(201);
    expect(good.json.signature).toMatchObject({ state: 'verified', keyDigests: [publicKeyOf(trusted).digest] });

    const listed = await api<{ images: UploadJson['image'][] }>(t.url, 'GET', '/api/v1/platforms/Vault/firmware');
    expect(listed.json.images.map((i) => i.signature.state)).toEqual(['verified']);
    const events = await refusals();
    expect(events.map((e) => e.reason).sort()).toEqual(['unsigned-image', 'wrong-signing-key']);
    expect(events.every((e) => e.actor !== null)).toBe(true);
  });

  it("refuse a signed ESP8266 image whose flash mode is not the boards' (the signature would fail on the board)", async () => {
    await api(t.url, 'POST', '/api/v1/platforms/Vault/keys', { pem: trusted.publicPem });
    // The synthetic sketches are built for DOUT (byte 2 = 3).
    expect((await api(t.url, 'PATCH', '/api/v1/platforms/Vault', { flashMode: 'qio' })).status).toBe(200);
    const refused = await upload(signEsp8266(openssl, trusted, sketch('f')), '3.0.0');
    expect(refused).toMatchObject({ status: 422, json: { error: 'flash-mode-mismatch' } });
    expect(refused.json.message).toMatch(/flash mode is DOUT but the boards run QIO/);
    await api(t.url, 'PATCH', '/api/v1/platforms/Vault', { flashMode: 'dout' });
    expect((await upload(signEsp8266(openssl, trusted, sketch('f')), '3.0.0')).status).toBe(201);
  });

  it('refuse a signed .bin.gz whose length trips cores 3.1.x, and take it padded to a multiple of 4', async () => {
    await api(t.url, 'POST', '/api/v1/platforms/Vault/keys', { pem: trusted.publicPem });
    const data = sketch('g');
    const lengths = [0, 1, 2, 3].map((n) => gzipWithName(data, n + 1));
    const tripping = lengths.find((gz) => gz.length % 4 !== 0)!;
    const padded = lengths.find((gz) => gz.length % 4 === 0)!;
    const refused = await upload(signEsp8266(openssl, trusted, tripping), '4.0.0');
    expect(refused).toMatchObject({ status: 422, json: { error: 'gzip-length-trap' } });
    expect(refused.json.message).toMatch(/not a multiple of 4/);
    const taken = await upload(signEsp8266(openssl, trusted, padded), '4.0.0');
    expect(taken.status).toBe(201);
    expect(taken.json.signature.state).toBe('verified');
  });

  it('offer the key a sketch built for signing carries, and adopt it', async () => {
    const plain = await upload(sketch('h'), '5.0.0');
    const carrying = await upload(sketch('i', [trusted.publicPem]), '5.0.1');
    expect([plain.status, carrying.status]).toEqual([201, 201]);
    const id = carrying.json.image.id;
    const offered = await api<{ keys: KeyJson[] }>(t.url, 'GET', `/api/v1/platforms/Vault/images/${id}/embedded-keys`);
    expect(offered.json.keys.map((k) => k.digest)).toEqual([publicKeyOf(trusted).digest]);

    const adopt = (imageId: number) =>
      api<KeyJson & ErrorJson>(t.url, 'POST', '/api/v1/platforms/Vault/keys/adopt', { imageId });
    expect(await adopt(id)).toMatchObject({ status: 201, json: { digest: publicKeyOf(trusted).digest } });
    expect(await adopt(id)).toMatchObject({ status: 409, json: { error: 'key-exists' } });
    expect(await adopt(plain.json.image.id)).toMatchObject({
      status: 404,
      json: { error: 'no-embedded-key' },
    });
    const events = (await api<{ events: EventJson[] }>(t.url, 'GET', '/api/v1/events?type=key-adopted')).json.events;
    expect(events).toMatchObject([{ detail: publicKeyOf(trusted).digest }]);
  });
});

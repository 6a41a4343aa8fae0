import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { exportToDirectory } from '../src/features/backup/catalogue-export.js';
import { api, esp8266Request, rawRequest } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { OpenSsl, type TestKey } from './synthetic/openssl.js';
import { publicKeyOf } from './synthetic/signed-images.js';

/**
 * Server-side signing (issue 17 §3): unsigned uploads to a platform that trusts the server's key are signed at
 * upload with a key file or a sign-command, the signed bytes are kept and served, the upload's digests still
 * recognise the devices that run it, and the private key shows up nowhere.
 */
let openssl: OpenSsl;
let rsa: TestKey;
let ec: TestKey;
let dir: string;

beforeAll(() => {
  openssl = OpenSsl.create();
  rsa = openssl.rsaKey(2048);
  ec = openssl.ecKey('P-256');
  dir = mkdtempSync(join(tmpdir(), 'esp-ota-signer-'));
  writeFileSync(join(dir, 'rsa.pub.pem'), rsa.publicPem);
});
afterAll(() => {
  openssl?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

interface UploadJson {
  image: { id: number; md5: string; sha256: string };
  signature: {
    state: string;
    signedByServer: boolean;
    original: { md5: string; sha256: string; size: number } | null;
    keyDigests: string[];
    layout: string;
  };
}

/** Every line of a private key PEM's body long enough to be unmistakable, and its label. */
function privateMarkers(key: TestKey): string[] {
  const lines = openssl
    .readPrivate(key)
    .split('\n')
    .filter((l) => l.length >= 40 && !l.startsWith('-----'));
  return ['PRIVATE KEY', ...lines];
}

describeEachStore('server-side signing', (store) => {
  let t: TestApp | undefined;
  let logs = '';
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  async function start(config: Record<string, string>, trust: TestKey = rsa) {
    logs = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs += chunk.toString('utf8');
        done();
      },
    });
    t = await startTestApp(store, config, { logger: pino({ level: 'trace' }, sink) });
    expect((await api(t.url, 'POST', '/api/v1/platforms', { name: 'Signed', accessMode: 'open' })).status).toBe(201);
    expect((await api(t.url, 'POST', '/api/v1/platforms/Signed/keys', { pem: trust.publicPem })).status).toBe(201);
    return t;
  }
  const upload = (app: TestApp, bytes: Uint8Array, version: string) =>
    api<UploadJson>(app.url, 'POST', `/api/v1/platforms/Signed/firmware?version=${version}&release=true`, bytes);
  const download = async (app: TestApp, id: number) =>
    Buffer.from(
      await (
        await fetch(`${app.url}/api/v1/firmware/${id}/download`, {
          headers: { authorization: 'Bearer test-admin-token-0123456789' },
        })
      ).arrayBuffer(),
    );

  it('with a key file, stores and serves exactly what openssl dgst -sha256 -sign makes, and devices running it are current', async () => {
    const app = await start({ signingKey: rsa.privatePath });
    const unsigned = buildEsp8266App({ strings: ['server signed 1.0.0'] });
    const up = await upload(app, unsigned, '1.0.0');
    expect(up.status).toBe(201);
    const expected = Buffer.concat([unsigned, openssl.sign(rsa, unsigned), u32(256)]);
    expect(up.json.signature).toMatchObject({
      state: 'verified',
      signedByServer: true,
      layout: 'esp8266',
      keyDigests: [publicKeyOf(rsa).digest],
      original: { size: unsigned.length, md5: md5(unsigned), sha256: sha256(unsigned) },
    });
    expect(up.json.image).toMatchObject({ md5: md5(expected), sha256: sha256(expected) });
    expect((await download(app, up.json.image.id)).equals(expected)).toBe(true);

    // The device is offered the signed bytes; once it runs them it reports the MD5 of the unsigned sketch.
    const host = new URL(app.url).host;
    const mac = '5C:CF:7F:00:17:01';
    const offered = await rawRequest(app.url, esp8266Request(host, '/update?dev=Signed&ver=0.9.0', { mac }));
    expect(offered.status).toBe(200);
    expect(offered.body.equals(expected)).toBe(true);
    const running = await rawRequest(
      app.url,
      esp8266Request(host, '/update?dev=Signed&ver=1.0.0', { mac, sketchMd5: md5(unsigned) }),
    );
    expect(running.status).toBe(304);
    await app.app.flushActivity();
    const devices = await api<{ devices: { mac: string; status: string }[] }>(app.url, 'GET', '/api/v1/devices');
    expect(devices.json.devices.find((d) => d.mac.toUpperCase() === mac)).toMatchObject({ status: 'current' });
  });

  it('with a sign-command, produces the same bytes as openssl, and says so when the command fails', async () => {
    const app = await start({
      signCommand: `openssl dgst -sha256 -sign '${rsa.privatePath}'`,
      signingPublicKey: join(dir, 'rsa.pub.pem'),
    });
    const unsigned = buildEsp8266App({ strings: ['command signed 2.0.0'] });
    const up = await upload(app, unsigned, '2.0.0');
    expect(up.status).toBe(201);
    expect(up.json.signature).toMatchObject({ state: 'verified', signedByServer: true });
    const expected = Buffer.concat([unsigned, openssl.sign(rsa, unsigned), u32(256)]);
    expect((await download(app, up.json.image.id)).equals(expected)).toBe(true);
    await app.stop();

    const broken = await start({ signCommand: 'cat >/dev/null; exit 3', signingPublicKey: join(dir, 'rsa.pub.pem') });
    const refused = await api<{ error: string; message: string }>(
      broken.url,
      'POST',
      '/api/v1/platforms/Signed/firmware?version=2.0.1',
      buildEsp8266App({ strings: ['command fails 2.0.1'] }),
    );
    expect(refused).toMatchObject({ status: 503, json: { error: 'signing-unavailable' } });
    expect(refused.json.message).toMatch(/exit status 3/);
    const images = await api<{ images: unknown[] }>(broken.url, 'GET', '/api/v1/platforms/Signed/firmware');
    expect(images.json.images).toEqual([]);
  });

  it('signs ESP32 images in the arduino-esp32 layout with an EC key, verifiable by the public key', async () => {
    const app = await start({ signingKey: ec.privatePath }, ec);
    const unsigned = buildEsp32App({ descriptor: { version: '3.0.0', projectName: 'Signed' } });
    const up = await upload(app, unsigned, '3.0.0');
    expect(up.status).toBe(201);
    expect(up.json.signature).toMatchObject({ state: 'verified', signedByServer: true, layout: 'arduino-esp32' });
    const served = await download(app, up.json.image.id);
    expect(served.length).toBe(unsigned.length + 512);
    expect(served.subarray(0, unsigned.length).equals(unsigned)).toBe(true);
    const trailer = served.subarray(unsigned.length);
    const der = trailer.subarray(0, 2 + trailer[1]!);
    expect(verify('sha256', unsigned, createPublicKey(ec.publicPem), der)).toBe(true);
  });

  it('shows no private key material in any log line, event, export or API answer', async () => {
    const app = await start({ signingKey: rsa.privatePath });
    const unsigned = buildEsp8266App({ strings: ['secret check 4.0.0'] });
    const up = await upload(app, unsigned, '4.0.0');
    expect(up.status).toBe(201);
    // A person pasting the private key into the public-key form is refused without it being echoed or logged.
    const pasted = await api(app.url, 'POST', '/api/v1/platforms/Signed/keys', { pem: openssl.readPrivate(rsa) });
    expect(pasted.status).toBe(400);
    await app.app.flushActivity();

    const answers: string[] = [JSON.stringify(up.json), JSON.stringify(pasted.json)];
    for (const path of [
      '/api/v1/platforms',
      '/api/v1/platforms/Signed',
      '/api/v1/platforms/Signed/keys',
      '/api/v1/platforms/Signed/firmware',
      `/api/v1/firmware/${up.json.image.id}`,
      '/api/v1/events?limit=500',
      '/api/v1/devices',
      '/platforms/Signed',
    ]) {
      const response = await fetch(app.url + path, {
        headers: { authorization: 'Bearer test-admin-token-0123456789' },
      });
      answers.push(await response.text());
    }
    const exportDir = mkdtempSync(join(tmpdir(), 'esp-ota-export-'));
    try {
      await exportToDirectory(app.app.catalogue, app.app.blobs, exportDir, Date.now());
      for (const file of listFiles(exportDir)) answers.push(readFileSync(file, 'latin1'));
    } finally {
      rmSync(exportDir, { recursive: true, force: true });
    }
    expect(logs.length).toBeGreaterThan(0);
    for (const marker of privateMarkers(rsa)) {
      expect(logs.includes(marker), `log contains ${marker.slice(0, 20)}`).toBe(false);
      for (const answer of answers)
        expect(answer.includes(marker), `answer contains ${marker.slice(0, 20)}`).toBe(false);
    }
    // The public key is where it belongs, so the search above looked in the right places.
    expect(answers.some((a) => a.includes(rsa.publicPem.split('\n')[1]!))).toBe(true);
  });
});

function listFiles(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

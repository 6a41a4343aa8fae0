import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeImage } from './index.js';
import { buildEsp8266App } from '../../test/synthetic/image-builder.js';
import { OpenSsl, type TestKey } from '../../test/synthetic/openssl.js';
import { signEsp8266 } from '../../test/synthetic/signed-images.js';

let openssl: OpenSsl;
let rsa2048: TestKey;

beforeAll(() => {
  openssl = OpenSsl.create();
  rsa2048 = openssl.rsaKey(2048);
});
afterAll(() => openssl?.dispose());

describe('the analyser on signed ESP8266 images', () => {
  it('accepts a signed sketch whose CRC words hold the length of the signed payload, not of the file', () => {
    // Arduino ≥ 2.7 writes the file length at 0x1010 before signing.py appends the signature.
    const payload = buildEsp8266App();
    const signed = signEsp8266(openssl, rsa2048, payload);
    const analysis = analyzeImage(signed);
    expect(analysis).toMatchObject({
      kind: 'app',
      family: 'esp8266',
      size: signed.length,
      imageLength: payload.length,
      crc: { stored: payload.readUInt32LE(0x1014) },
      tail: { offset: payload.length, length: signed.length - payload.length, kind: 'signature' },
    });
  });

  it('still rejects CRC words that match neither the file nor a signed payload', () => {
    const signed = signEsp8266(openssl, rsa2048, buildEsp8266App());
    signed.writeUInt32LE(signed.readUInt32LE(0x1010) + 4, 0x1010);
    expect(analyzeImage(signed)).toMatchObject({ kind: 'rejected', code: 'corrupt' });
  });

  it('inflates a signed gzip sketch: the signature follows the gzip data', () => {
    const inflated = buildEsp8266App();
    const payload = gzipSync(inflated);
    const signed = signEsp8266(openssl, rsa2048, payload);
    expect(analyzeImage(signed)).toMatchObject({
      kind: 'app',
      family: 'esp8266',
      compression: 'gzip',
      size: signed.length,
      inflatedSize: inflated.length,
    });
  });
});

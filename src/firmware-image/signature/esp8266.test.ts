import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageAnalysis } from '../analysis.js';
import { analyzeImage } from '../analyze-image.js';
import { esp8266SigningProblems, gzipLengthTripsCore31 } from './esp8266-rules.js';
import { inspectSignature } from './inspect-signature.js';
import type { PublicKey } from './public-key.js';
import { buildEsp32App, buildEsp8266App } from '../../../test/synthetic/image-builder.js';
import { OpenSsl, type TestKey } from '../../../test/synthetic/openssl.js';
import { publicKeyOf, signEsp8266, withBitFlipped } from '../../../test/synthetic/signed-images.js';
import { CORPUS_AVAILABLE, readFirmware } from '../../../test/helpers/firmware-corpus.js';

let openssl: OpenSsl;
let signer: TestKey;
let signerKey: PublicKey;
let otherKey: PublicKey;
let biggerKey: PublicKey;
let ecKey: PublicKey;

beforeAll(() => {
  openssl = OpenSsl.create();
  signer = openssl.rsaKey(2048);
  signerKey = publicKeyOf(signer);
  otherKey = publicKeyOf(openssl.rsaKey(2048));
  biggerKey = publicKeyOf(openssl.rsaKey(3072));
  ecKey = publicKeyOf(openssl.ecKey('P-256'));
});
afterAll(() => openssl?.dispose());

function inspect(bytes: Buffer, keys: PublicKey[]) {
  return inspectSignature(bytes, analyzeImage(bytes), keys);
}

describe('ESP8266 signed images (payload ‖ signature ‖ u32 length)', () => {
  it('are recognised without a key and verified by the signing key', () => {
    const payload = buildEsp8266App({ crcWords: false });
    const signed = signEsp8266(openssl, signer, payload);
    const analysis = analyzeImage(signed);
    expect(analysis.kind === 'app' && analysis.signature).toMatchObject({
      signed: true,
      layout: 'esp8266',
      algorithm: undefined,
      candidates: [
        {
          signedRange: { offset: 0, length: payload.length },
          signatureRange: { offset: payload.length, length: 260 },
          algorithms: ['rsa-pkcs1-sha256', 'rsa-pkcs1-raw-sha256'],
          keyBits: [2048],
        },
      ],
      esp8266: { signedLength: payload.length, gzip: false, flashModeCode: 3 },
    });
    expect(inspectSignature(signed, analysis, [otherKey, signerKey])).toMatchObject({
      verified: true,
      layout: 'esp8266',
      algorithm: 'rsa-pkcs1-sha256',
      validKeys: [signerKey.digest],
      problems: [],
    });
  });

  it('do not verify with another key, a key of another size or an EC key, and say so', () => {
    const signed = signEsp8266(openssl, signer, buildEsp8266App());
    const result = inspect(signed, [otherKey, biggerKey, ecKey]);
    expect(result).toMatchObject({ signed: true, verified: false, validKeys: [] });
    expect(result.problems).toContain('none of the 3 given keys verifies the signature');
    expect(result.problems.join('\n')).toMatch(/ESP8266 boards verify RSA signatures only/);
  });

  it('report the ≤ 2.5.2 form (raw digest) as legacy, which newer cores reject', () => {
    const signed = signEsp8266(openssl, signer, buildEsp8266App(), true);
    const result = inspect(signed, [signerKey]);
    expect(result).toMatchObject({ verified: true, layout: 'esp8266-legacy', algorithm: 'rsa-pkcs1-raw-sha256' });
    expect(result.problems.join('\n')).toMatch(/core 2\.6 or newer reject it/);
  });

  it('do not verify once a byte the analyser does not check was changed, nor with a damaged signature', () => {
    const payload = buildEsp8266App({ crcWords: false });
    const signed = signEsp8266(openssl, signer, payload);
    const padding = withBitFlipped(signed, 0x800); // eboot's 0xAA padding: no checksum covers it
    expect(analyzeImage(padding).kind).toBe('app');
    expect(inspect(padding, [signerKey])).toMatchObject({ signed: true, verified: false });
    const signature = withBitFlipped(signed, payload.length + 10, 0x80);
    expect(inspect(signature, [signerKey])).toMatchObject({ signed: true, verified: false });
  });

  it('are not taken for signed once truncated, and unsigned images say what signing would need', () => {
    const payload = buildEsp8266App();
    const truncated = signEsp8266(openssl, signer, payload).subarray(0, -1);
    expect(inspect(truncated, [signerKey])).toMatchObject({ verified: false });
    const unsigned = inspect(payload, [signerKey]);
    expect(unsigned).toMatchObject({ signed: false, verified: false, candidates: [], problems: [] });
    expect(unsigned.esp8266).toEqual({ signedLength: payload.length, gzip: false, flashModeCode: 3 });
  });

  it('verify a signed .bin.gz over the compressed bytes', () => {
    const gz = gzipSync(buildEsp8266App());
    const signed = signEsp8266(openssl, signer, gz);
    const result = inspect(signed, [signerKey]);
    expect(result).toMatchObject({
      verified: true,
      layout: 'esp8266',
      candidates: [{ signedRange: { offset: 0, length: gz.length } }],
      esp8266: { signedLength: gz.length, gzip: true, flashModeCode: undefined },
    });
  });

  it('verify from an analysis stored before analyses carried a signature summary', () => {
    for (const payload of [buildEsp8266App(), gzipSync(buildEsp8266App())]) {
      const signed = signEsp8266(openssl, signer, payload);
      const stored = JSON.parse(JSON.stringify({ ...analyzeImage(signed), signature: undefined })) as ImageAnalysis;
      expect(inspectSignature(signed, stored, [signerKey])).toMatchObject({
        verified: true,
        candidates: [{ signedRange: { offset: 0, length: payload.length } }],
      });
    }
  });

  it.skipIf(!CORPUS_AVAILABLE)('verify real sketches signed the way signing.py does, CRC words and all', () => {
    for (const file of [
      'HASwitchPlate__HASPone__HASwitchPlate.ino.d1_mini.bin',
      '1638NimtE__Tasmota-thermostate__firmware.bin',
    ]) {
      const signed = signEsp8266(openssl, signer, readFirmware(file));
      expect(inspect(signed, [otherKey, signerKey]), file).toMatchObject({
        verified: true,
        validKeys: [signerKey.digest],
      });
    }
  });
});

describe('public keys compiled into a sketch', () => {
  it('are reported with their digest, in plain and gzip uploads, whether or not the image is signed', () => {
    const image = buildEsp8266App({ strings: ['WiFi', signer.publicPem, 'update?dev=AirPatrol&ver=1.0.0'] });
    for (const bytes of [image, gzipSync(image), signEsp8266(openssl, signer, image)]) {
      const analysis = analyzeImage(bytes);
      expect(analysis.kind === 'app' && analysis.signature.embeddedPublicKeys).toEqual([
        {
          offset: expect.any(Number),
          digest: signerKey.digest,
          type: 'rsa',
          bits: 2048,
          pem: signerKey.pem,
        },
      ]);
    }
  });

  it('are found right after a run of dashes (a separator line in the sketch)', () => {
    const image = buildEsp8266App({ strings: ['-'.repeat(41) + signer.publicPem] });
    const analysis = analyzeImage(image);
    expect(analysis.kind === 'app' && analysis.signature.embeddedPublicKeys.map((k) => k.digest)).toEqual([
      signerKey.digest,
    ]);
  });

  it('are not invented from a marker without a key behind it', () => {
    const image = buildEsp8266App({ strings: ['-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----'] });
    const analysis = analyzeImage(image);
    expect(analysis.kind === 'app' && analysis.signature.embeddedPublicKeys).toEqual([]);
    // A marker cut off by the end of the file.
    const cut = analyzeImage(buildEsp32App({ tail: Buffer.from('-----BEGIN RSA PUBLIC KEY--', 'latin1') }));
    expect(cut.kind === 'app' && cut.signature.embeddedPublicKeys).toEqual([]);
  });
});

describe('ESP8266 signing rules', () => {
  it('warn when the flash mode differs from the boards (the Updater rewrites it and the signature fails)', () => {
    const facts = { signedLength: 400_000, gzip: false, flashModeCode: 2 };
    expect(esp8266SigningProblems(facts, 2)).toEqual([]);
    expect(esp8266SigningProblems(facts, undefined)).toEqual([]);
    expect(esp8266SigningProblems(facts, 3)).toEqual([
      expect.stringMatching(/flash mode is DIO but the boards run DOUT/),
    ]);
  });

  it('warn about signed gzip lengths that trip cores 3.1.0–3.1.2', () => {
    expect(gzipLengthTripsCore31(400_000)).toBe(false);
    expect(gzipLengthTripsCore31(400_001)).toBe(true);
    expect(esp8266SigningProblems({ signedLength: 400_001, gzip: true, flashModeCode: undefined }, 3)).toEqual([
      expect.stringMatching(/400001 bytes, not a multiple of 4/),
    ]);
    expect(esp8266SigningProblems({ signedLength: 400_001, gzip: false, flashModeCode: 3 }, 3)).toEqual([]);
  });
});

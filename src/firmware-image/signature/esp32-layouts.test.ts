import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeImage } from '../analyze-image.js';
import { inspectSignature } from './inspect-signature.js';
import type { PublicKey } from './public-key.js';
import { buildEsp32App } from '../../../test/synthetic/image-builder.js';
import { OpenSsl, type TestKey } from '../../../test/synthetic/openssl.js';
import {
  publicKeyOf,
  signArduinoEsp32,
  signEsp32Fota,
  signSecureBootV1,
  signSecureBootV2,
  withBitFlipped,
} from '../../../test/synthetic/signed-images.js';
import { CORPUS_AVAILABLE, readFirmware } from '../../../test/helpers/firmware-corpus.js';

let openssl: OpenSsl;
const keys: Record<string, TestKey> = {};
const pub: Record<string, PublicKey> = {};

beforeAll(() => {
  openssl = OpenSsl.create();
  const make: Record<string, () => TestKey> = {
    rsa2048: () => openssl.rsaKey(2048),
    rsa3072: () => openssl.rsaKey(3072),
    rsa3072b: () => openssl.rsaKey(3072),
    rsa4096: () => openssl.rsaKey(4096),
    p192: () => openssl.ecKey('P-192'),
    p256: () => openssl.ecKey('P-256'),
    p256b: () => openssl.ecKey('P-256'),
    p384: () => openssl.ecKey('P-384'),
  };
  for (const [name, generate] of Object.entries(make)) {
    keys[name] = generate();
    pub[name] = publicKeyOf(keys[name]);
  }
});
afterAll(() => openssl?.dispose());

const image = () => buildEsp32App({ descriptor: { version: '2.0.0', projectName: 'AirPatrol' } });

function inspect(bytes: Buffer, given: PublicKey[]) {
  return inspectSignature(bytes, analyzeImage(bytes), given);
}

const flipped = (bytes: Buffer, at: number) => withBitFlipped(bytes, at);

describe('arduino-esp32 (image ‖ signature zero-padded to 512 bytes)', () => {
  it.each([
    ['rsa2048', 'sha256', 'rsa-pss-sha256'],
    ['rsa3072', 'sha384', 'rsa-pss-sha384'],
    ['rsa4096', 'sha512', 'rsa-pss-sha512'],
    ['p256', 'sha256', 'ecdsa-sha256'],
    ['p384', 'sha384', 'ecdsa-sha384'],
  ])('verifies %s with %s and no other key', (name, hash, algorithm) => {
    const unsigned = image();
    const signed = signArduinoEsp32(openssl, keys[name]!, unsigned, hash);
    const analysis = analyzeImage(signed);
    expect(analysis).toMatchObject({
      kind: 'app',
      imageLength: unsigned.length,
      tail: { length: 512, kind: 'signature' },
      signature: { signed: true, layout: 'arduino-esp32', algorithm: undefined },
    });
    const others = Object.values(pub).filter((k) => k !== pub[name]);
    expect(inspectSignature(signed, analysis, [...others, pub[name]!])).toMatchObject({
      verified: true,
      algorithm,
      validKeys: [pub[name]!.digest],
    });
    expect(inspectSignature(signed, analysis, others)).toMatchObject({ signed: true, verified: false });
  });

  it('tells key sizes and DER signatures apart by the padding, and says when only a key can tell', () => {
    const rsa2048 = analyzeImage(signArduinoEsp32(openssl, keys.rsa2048!, image()));
    expect(rsa2048.kind === 'app' && rsa2048.signature.candidates[0]).toMatchObject({ keyBits: [2048, 3072, 4096] });
    const ecdsa = analyzeImage(signArduinoEsp32(openssl, keys.p256!, image()));
    expect(ecdsa.kind === 'app' && ecdsa.signature.candidates[0]).toMatchObject({
      keyBits: [256],
      algorithms: ['ecdsa-sha256', 'ecdsa-sha384', 'ecdsa-sha512'],
    });
    const rsa4096 = analyzeImage(signArduinoEsp32(openssl, keys.rsa4096!, image()));
    expect(rsa4096.kind === 'app' && rsa4096.signature.problems).toEqual([
      expect.stringMatching(/nothing in these 512 bytes proves they are a signature/),
    ]);
  });

  it('does not verify a flipped image or signature bit, nor a truncated file', () => {
    const unsigned = image();
    const signed = signArduinoEsp32(openssl, keys.p256!, unsigned);
    // The flip lands in the appended SHA-256, which the analyser checks, and in the signature, which it cannot.
    expect(inspect(flipped(signed, unsigned.length - 1), [pub.p256!])).toMatchObject({ verified: false });
    expect(inspect(flipped(signed, unsigned.length + 20), [pub.p256!])).toMatchObject({ verified: false });
    expect(inspect(signed.subarray(0, -1), [pub.p256!])).toMatchObject({ signed: false, verified: false });
  });

  it.skipIf(!CORPUS_AVAILABLE)('verifies a real Arduino-ESP32 build signed the way bin_signing.py does', () => {
    const signed = signArduinoEsp32(openssl, keys.rsa3072!, readFirmware('RuXBee__esp32-ap-client__firmware.bin'));
    expect(inspect(signed, [pub.rsa3072!])).toMatchObject({ verified: true, layout: 'arduino-esp32' });
  });
});

describe('ESP-IDF secure boot v2 (signature sector)', () => {
  it.each([
    ['rsa3072', 'rsa-pss-sha256', 3072],
    ['p256', 'ecdsa-sha256', 256],
    ['p384', 'ecdsa-sha384', 384],
    ['p192', 'ecdsa-sha256', 192],
  ])('reads a %s block and verifies it with that key only', (name, algorithm, bits) => {
    const unsigned = image();
    const signed = signSecureBootV2(openssl, [keys[name]!], unsigned);
    const analysis = analyzeImage(signed);
    expect(analysis).toMatchObject({
      kind: 'app',
      imageLength: unsigned.length,
      signature: {
        signed: true,
        layout: 'secure-boot-v2',
        algorithm,
        keyDigests: [pub[name]!.digest],
        problems: [],
        candidates: [
          {
            signedRange: { offset: 0, length: 4096 },
            signatureRange: { offset: 4096, length: 4096 },
            blocks: [{ index: 0, keyBits: bits, crcOk: true, imageDigestOk: true, keyDigest: pub[name]!.digest }],
          },
        ],
      },
    });
    const others = Object.values(pub).filter((k) => k !== pub[name]);
    expect(inspectSignature(signed, analysis, [...others, pub[name]!])).toMatchObject({
      verified: true,
      validKeys: [pub[name]!.digest],
    });
  });

  it('lists every block of a sector signed by several keys, and each key verifies', () => {
    const signed = signSecureBootV2(openssl, [keys.rsa3072!, keys.rsa3072b!], image());
    const result = inspect(signed, [pub.rsa3072!, pub.rsa3072b!, pub.p256!]);
    expect(result).toMatchObject({
      keyDigests: [pub.rsa3072!.digest, pub.rsa3072b!.digest],
      validKeys: [pub.rsa3072!.digest, pub.rsa3072b!.digest],
    });
    expect(result.candidates[0]!.blocks!.map((b) => b.efuseDigest)).toHaveLength(2);
  });

  it('catches a changed image, a damaged block and a swapped key', () => {
    const unsigned = image();
    const signed = signSecureBootV2(openssl, [keys.p256!], unsigned);
    // 0xFF padding between the image and the sector: signed, but checked by nothing else.
    const padding = flipped(signed, unsigned.length + 5);
    expect(inspect(padding, [pub.p256!])).toMatchObject({ verified: false });
    expect(analyzeImage(padding)).toMatchObject({
      signature: {
        problems: [expect.stringMatching(/image digest does not match/), expect.stringMatching(/not 0xFF/)],
      },
    });
    const block = flipped(signed, 4096 + 120); // inside the signature
    expect(inspect(block, [pub.p256!])).toMatchObject({ verified: false });
    expect(analyzeImage(block)).toMatchObject({
      signature: { problems: [expect.stringMatching(/CRC-32 does not match/)] },
    });
    expect(inspect(signed.subarray(0, -100), [pub.p256!])).toMatchObject({ signed: false, verified: false });
  });
});

describe('ESP-IDF secure boot v1 (ECDSA block after the image)', () => {
  it("verifies with the P-256 key and no other, and keeps esptool's 12 alignment bytes apart", () => {
    const unsigned = image();
    const signed = signSecureBootV1(openssl, keys.p256!, unsigned, 12);
    const result = inspect(signed, [pub.p256b!, pub.rsa2048!, pub.p256!]);
    expect(result).toMatchObject({
      verified: true,
      layout: 'secure-boot-v1',
      algorithm: 'ecdsa-sha256',
      validKeys: [pub.p256!.digest],
      candidates: [{ signedRange: { offset: 0, length: unsigned.length }, signatureRange: { length: 68 } }],
    });
    expect(result.problems.join('\n')).toMatch(/12 bytes follow the signature block/);
    expect(inspect(flipped(signed, unsigned.length + 30), [pub.p256!])).toMatchObject({ verified: false });
  });

  it.skipIf(!CORPUS_AVAILABLE)('recognises the real esptool sample, which cannot be verified without its key', () => {
    const sample = readFirmware('espressif__esptool__hello-world-signed.bin');
    const result = inspect(sample, [pub.p256!]);
    expect(result).toMatchObject({
      signed: true,
      verified: false,
      layout: 'secure-boot-v1',
      keyDigests: [],
      candidates: [{ signedRange: { offset: 0, length: 196528 }, signatureRange: { offset: 196528, length: 68 } }],
    });
    expect(result.problems.join('\n')).toMatch(/carry no public key/);
    // The same image signed again with a key we hold verifies: the layout, not only the pattern, is right.
    const resigned = signSecureBootV1(openssl, keys.p256!, sample.subarray(0, 196528), 12);
    expect(inspect(resigned, [pub.p256!])).toMatchObject({ verified: true });
  });
});

describe('esp32FOTA (signature ‖ image)', () => {
  it('is described although the file does not start with an image, and verifies with RSA-4096 only', () => {
    const unsigned = image();
    const signed = signEsp32Fota(openssl, keys.rsa4096!, unsigned);
    const analysis = analyzeImage(signed);
    expect(analysis).toMatchObject({
      kind: 'rejected',
      code: 'signed-esp32fota',
      embeddedApp: { offset: 512, image: { descriptor: { projectName: 'AirPatrol' } } },
      signature: { signed: true, layout: 'esp32fota', algorithm: 'rsa-pkcs1-sha256' },
    });
    expect(inspectSignature(signed, analysis, [pub.rsa2048!, pub.rsa4096!])).toMatchObject({
      verified: true,
      validKeys: [pub.rsa4096!.digest],
    });
    const result = inspectSignature(signed, analysis, [pub.rsa2048!]);
    expect(result.problems.join('\n')).toMatch(/only RSA-4096 keys make/);
    expect(inspect(flipped(signed, 600), [pub.rsa4096!])).toMatchObject({ verified: false });
  });
});

describe('unsigned ESP32 images', () => {
  it('say so, with nothing verified and no problem', () => {
    expect(inspect(image(), [pub.rsa3072!, pub.p256!])).toMatchObject({
      signed: false,
      verified: false,
      layout: undefined,
      candidates: [],
      problems: [],
      esp8266: undefined,
    });
  });

  it('report trailing bytes that fit no signed layout', () => {
    const analysis = analyzeImage(buildEsp32App({ tail: Buffer.alloc(100, 0x42) }));
    expect(analysis).toMatchObject({
      tail: { kind: 'unknown' },
      signature: { signed: false, problems: ['100 bytes follow the image and fit no signed layout'] },
    });
  });
});

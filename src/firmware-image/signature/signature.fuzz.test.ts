import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeImage } from '../analyze-image.js';
import { inspectSignature } from './inspect-signature.js';
import type { PublicKey } from './public-key.js';
import { buildEsp32App, buildEsp8266App } from '../../../test/synthetic/image-builder.js';
import { OpenSsl } from '../../../test/synthetic/openssl.js';
import {
  publicKeyOf,
  signArduinoEsp32,
  signEsp32Fota,
  signEsp8266,
  signSecureBootV1,
  signSecureBootV2,
  withBitFlipped,
} from '../../../test/synthetic/signed-images.js';

let openssl: OpenSsl;
let keys: PublicKey[] = [];
/** One correctly signed image per layout, each verified by one of `keys`. */
let seeds: Buffer[] = [];

beforeAll(() => {
  openssl = OpenSsl.create();
  const rsa2048 = openssl.rsaKey(2048);
  const rsa3072 = openssl.rsaKey(3072);
  const rsa4096 = openssl.rsaKey(4096);
  const p256 = openssl.ecKey('P-256');
  const p384 = openssl.ecKey('P-384');
  keys = [rsa2048, rsa3072, rsa4096, p256, p384].map(publicKeyOf);
  const esp8266 = buildEsp8266App({ strings: ['sketch', rsa2048.publicPem] });
  const esp32 = buildEsp32App({ rodata: 'x'.repeat(600) });
  seeds = [
    signEsp8266(openssl, rsa2048, esp8266),
    signEsp8266(openssl, rsa2048, esp8266, true),
    signEsp8266(openssl, rsa2048, gzipSync(esp8266)),
    signArduinoEsp32(openssl, rsa3072, esp32),
    signArduinoEsp32(openssl, p384, esp32, 'sha512'),
    signSecureBootV2(openssl, [rsa3072, p256], esp32),
    signSecureBootV1(openssl, p256, esp32, 12),
    signEsp32Fota(openssl, rsa4096, esp32),
  ];
});
afterAll(() => openssl?.dispose());

function inspect(bytes: Uint8Array) {
  return inspectSignature(bytes, analyzeImage(bytes), keys);
}

describe('signature inspection fuzzing', () => {
  it('starts from seeds that each verify', () => {
    for (const seed of seeds) expect(inspect(seed).verified).toBe(true);
  });

  it('answers for mutated and truncated signed images, never throwing, with only given keys as valid', () => {
    const digests = new Set(keys.map((k) => k.digest));
    const mutated = fc
      .record({
        seed: fc.nat(),
        writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        keep: fc.option(fc.nat(), { nil: undefined }),
      })
      .map(({ seed, writes, keep }) => {
        let bytes = Buffer.from(seeds[seed % seeds.length]!);
        for (const [position, value] of writes) bytes[position % bytes.length] = value;
        if (keep !== undefined) bytes = bytes.subarray(0, keep % (bytes.length + 1));
        return bytes;
      });
    fc.assert(
      fc.property(mutated, (bytes) => {
        const result = inspect(bytes);
        expect(result.verified).toBe(result.validKeys.length > 0);
        for (const digest of result.validKeys) expect(digests.has(digest)).toBe(true);
        if (!result.signed) expect(result.validKeys).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('never verifies an image with a bit flipped anywhere in the signed bytes', () => {
    const flip = fc.record({ seed: fc.nat(), position: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) });
    fc.assert(
      fc.property(flip, ({ seed, position, bit }) => {
        const bytes = seeds[seed % seeds.length]!;
        const { signedRange } = inspect(bytes).candidates[0]!;
        const at = signedRange.offset + (position % signedRange.length);
        expect(inspect(withBitFlipped(bytes, at, 1 << bit)).verified).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

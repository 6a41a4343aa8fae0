/**
 * Every signed layout of protocol.md §7 through the same five cases (issue 17's proof list): signed with the key →
 * verified; signed with another key of the same type and size → recognised but not verified; truncated, or one bit
 * flipped in the signed bytes or in the signature → not verified; the same image unsigned → not signed. The other
 * test files go deeper per layout; this one makes sure no layout misses a case.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeImage } from '../analyze-image.js';
import { inspectSignature } from './inspect-signature.js';
import type { PublicKey } from './public-key.js';
import type { SignatureLayout } from './types.js';
import { buildEsp32App, buildEsp8266App } from '../../../test/synthetic/image-builder.js';
import { OpenSsl, type TestKey } from '../../../test/synthetic/openssl.js';
import {
  publicKeyOf,
  signArduinoEsp32,
  signEsp32Fota,
  signEsp8266,
  signSecureBootV1,
  signSecureBootV2,
  withBitFlipped,
} from '../../../test/synthetic/signed-images.js';

interface LayoutCase {
  name: string;
  layout: SignatureLayout;
  key: () => TestKey;
  otherKey: () => TestKey;
  unsigned: () => Buffer;
  sign: (key: TestKey, unsigned: Buffer) => Buffer;
  /** Where in the signed file the signature sits: a byte inside it to flip. */
  signatureByte: (signed: Buffer, unsigned: Buffer) => number;
  /** Where the image's own bytes sit in the signed file: a byte inside them to flip. */
  imageByte: (signed: Buffer, unsigned: Buffer) => number;
}

let openssl: OpenSsl;
const generated = new Map<string, TestKey>();
/** Keys are slow to make (RSA-4096): each kind is made once and shared by the cases. */
function key(kind: string, make: () => TestKey): () => TestKey {
  return () => {
    if (!generated.has(kind)) generated.set(kind, make());
    return generated.get(kind)!;
  };
}

beforeAll(() => {
  openssl = OpenSsl.create();
});
afterAll(() => openssl?.dispose());

const rsa2048 = key('rsa2048', () => openssl.rsaKey(2048));
const rsa2048b = key('rsa2048b', () => openssl.rsaKey(2048));
const rsa3072 = key('rsa3072', () => openssl.rsaKey(3072));
const rsa3072b = key('rsa3072b', () => openssl.rsaKey(3072));
const rsa4096 = key('rsa4096', () => openssl.rsaKey(4096));
const rsa4096b = key('rsa4096b', () => openssl.rsaKey(4096));
const p256 = key('p256', () => openssl.ecKey('P-256'));
const p256b = key('p256b', () => openssl.ecKey('P-256'));

const esp8266App = () => buildEsp8266App({ strings: ['matrix sketch 1.4.0'] });
const esp32App = () =>
  buildEsp32App({ descriptor: { version: '1.4.0', projectName: 'Matrix' }, rodata: 'm'.repeat(700) });
const middleOf = (unsigned: Buffer) => Math.floor(unsigned.length / 2);

const CASES: LayoutCase[] = [
  {
    name: 'ESP8266 (core ≥ 2.6)',
    layout: 'esp8266',
    key: rsa2048,
    otherKey: rsa2048b,
    unsigned: esp8266App,
    sign: (k, u) => signEsp8266(openssl, k, u),
    signatureByte: (_s, u) => u.length + 100,
    imageByte: (_s, u) => middleOf(u),
  },
  {
    name: 'ESP8266 legacy (core ≤ 2.5.2)',
    layout: 'esp8266-legacy',
    key: rsa2048,
    otherKey: rsa2048b,
    unsigned: esp8266App,
    sign: (k, u) => signEsp8266(openssl, k, u, true),
    signatureByte: (_s, u) => u.length + 100,
    imageByte: (_s, u) => middleOf(u),
  },
  {
    name: 'ESP8266 gzip',
    layout: 'esp8266',
    key: rsa2048,
    otherKey: rsa2048b,
    unsigned: () => gzipSync(esp8266App()),
    sign: (k, u) => signEsp8266(openssl, k, u),
    signatureByte: (_s, u) => u.length + 100,
    imageByte: (_s, u) => middleOf(u),
  },
  {
    name: 'arduino-esp32 RSA-PSS',
    layout: 'arduino-esp32',
    key: rsa3072,
    otherKey: rsa3072b,
    unsigned: esp32App,
    sign: (k, u) => signArduinoEsp32(openssl, k, u),
    signatureByte: (_s, u) => u.length + 10,
    imageByte: (_s, u) => middleOf(u),
  },
  {
    name: 'arduino-esp32 ECDSA',
    layout: 'arduino-esp32',
    key: p256,
    otherKey: p256b,
    unsigned: esp32App,
    sign: (k, u) => signArduinoEsp32(openssl, k, u),
    signatureByte: (_s, u) => u.length + 10,
    imageByte: (_s, u) => middleOf(u),
  },
  {
    name: 'ESP-IDF secure boot v2 RSA',
    layout: 'secure-boot-v2',
    key: rsa3072,
    otherKey: rsa3072b,
    unsigned: esp32App,
    sign: (k, u) => signSecureBootV2(openssl, [k], u),
    // The signature field of block 0: after magic, version, pad, digest (36 bytes) and the RSA key fields (776).
    signatureByte: (s) => s.length - 4096 + 36 + 776 + 50,
    imageByte: (_s, u) => middleOf(u),
  },
  {
    name: 'ESP-IDF secure boot v2 ECDSA',
    layout: 'secure-boot-v2',
    key: p256,
    otherKey: p256b,
    unsigned: esp32App,
    sign: (k, u) => signSecureBootV2(openssl, [k], u),
    signatureByte: (s) => s.length - 4096 + 36 + 1 + 48 + 48 + 10,
    imageByte: (_s, u) => middleOf(u),
  },
  {
    name: 'ESP-IDF secure boot v1',
    layout: 'secure-boot-v1',
    key: p256,
    otherKey: p256b,
    unsigned: esp32App,
    sign: (k, u) => signSecureBootV1(openssl, k, u),
    signatureByte: (_s, u) => u.length + 4 + 10,
    imageByte: (_s, u) => middleOf(u),
  },
  {
    name: 'esp32FOTA',
    layout: 'esp32fota',
    key: rsa4096,
    otherKey: rsa4096b,
    unsigned: esp32App,
    sign: (k, u) => signEsp32Fota(openssl, k, u),
    signatureByte: () => 100,
    imageByte: (_s, u) => 512 + middleOf(u),
  },
];

function inspect(bytes: Uint8Array, keys: PublicKey[]) {
  return inspectSignature(bytes, analyzeImage(bytes), keys);
}

describe.each(CASES)('$name', (c) => {
  it('verifies with the signing key, and names the layout', { timeout: 60_000 }, () => {
    const signed = c.sign(c.key(), c.unsigned());
    const key = publicKeyOf(c.key());
    const result = inspect(signed, [publicKeyOf(c.otherKey()), key]);
    expect(result).toMatchObject({ signed: true, verified: true, layout: c.layout, validKeys: [key.digest] });
  });

  it('is recognised but not verified by another key of the same type and size', { timeout: 60_000 }, () => {
    const signed = c.sign(c.otherKey(), c.unsigned());
    const result = inspect(signed, [publicKeyOf(c.key())]);
    expect(result).toMatchObject({ signed: true, verified: false, validKeys: [] });
    expect(result.problems.join('\n')).toMatch(/none of the 1 given key verifies the signature/);
  });

  it('is not verified once truncated, by one byte or by the whole signature', { timeout: 60_000 }, () => {
    const unsigned = c.unsigned();
    const signed = c.sign(c.key(), unsigned);
    const keys = [publicKeyOf(c.key())];
    expect(inspect(signed.subarray(0, signed.length - 1), keys).verified).toBe(false);
    expect(inspect(signed.subarray(0, Math.max(0, signed.length - 600)), keys).verified).toBe(false);
  });

  it('is not verified with one bit flipped in the image or in the signature', { timeout: 60_000 }, () => {
    const unsigned = c.unsigned();
    const signed = c.sign(c.key(), unsigned);
    const keys = [publicKeyOf(c.key())];
    expect(inspect(withBitFlipped(signed, c.imageByte(signed, unsigned)), keys).verified).toBe(false);
    expect(inspect(withBitFlipped(signed, c.signatureByte(signed, unsigned)), keys).verified).toBe(false);
  });

  it('unsigned, is reported as unsigned and verified by no key', { timeout: 60_000 }, () => {
    const result = inspect(c.unsigned(), [publicKeyOf(c.key())]);
    expect(result).toMatchObject({ signed: false, verified: false, validKeys: [] });
  });
});

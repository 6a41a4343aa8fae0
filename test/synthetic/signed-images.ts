/**
 * Signed images in each client's layout (protocol.md §7), built around openssl's signatures. The layouts follow the
 * signing tools: esp8266/Arduino `tools/signing.py`, arduino-esp32 `tools/bin_signing.py`, esptool `espsecure
 * sign_data` (secure boot v1 and v2), esp32FOTA's README.
 */
import { createPublicKey } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { parsePublicKey, type PublicKey } from '../../src/firmware-image/signature/public-key.js';
import type { OpenSsl, TestKey } from './openssl.js';

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

/** esp8266/Arduino: `payload ‖ signature ‖ u32 LE signature length`. */
export function signEsp8266(openssl: OpenSsl, key: TestKey, payload: Uint8Array, legacy = false): Buffer {
  const signature = legacy ? openssl.signRawDigest(key, payload) : openssl.sign(key, payload);
  return Buffer.concat([payload, signature, u32(signature.length)]);
}

/** arduino-esp32 ≥ 3.3: `image ‖ signature zero-padded to 512 bytes`; RSA-PSS with the maximum salt, or ECDSA DER. */
export function signArduinoEsp32(openssl: OpenSsl, key: TestKey, image: Uint8Array, hash = 'sha256'): Buffer {
  const rsa = key.name.startsWith('rsa');
  const signature = openssl.sign(key, image, hash, rsa ? { mode: 'pss', saltLength: 'max' } : { mode: 'pkcs1' });
  return Buffer.concat([image, signature, Buffer.alloc(512 - signature.length)]);
}

/** esp32FOTA: `signature ‖ image`, RSA PKCS#1 v1.5 SHA-256, the signature 512 bytes long (RSA-4096). */
export function signEsp32Fota(openssl: OpenSsl, key: TestKey, image: Uint8Array): Buffer {
  return Buffer.concat([openssl.sign(key, image), image]);
}

/** ESP-IDF secure boot v1 (app): `image ‖ u32 0 ‖ r ‖ s` (big-endian P-256), plus `trailing` alignment bytes. */
export function signSecureBootV1(openssl: OpenSsl, key: TestKey, image: Uint8Array, trailing = 0): Buffer {
  const { r, s } = decodeDerSignature(openssl.sign(key, image));
  return Buffer.concat([image, u32(0), fixedBigEndian(r, 32), fixedBigEndian(s, 32), Buffer.alloc(trailing, 0x5a)]);
}

const SECTOR = 4096;
const BLOCK = 1216;

/**
 * ESP-IDF secure boot v2: the image padded with 0xFF to a 4 KiB multiple, then one 4 KiB sector of up to three
 * 1,216-byte blocks (magic 0xE7, little-endian numbers, CRC-32 over the first 1,196 bytes), the rest 0xFF.
 */
export function signSecureBootV2(openssl: OpenSsl, keys: TestKey[], image: Uint8Array): Buffer {
  const padded = Buffer.concat([image, Buffer.alloc((SECTOR - (image.length % SECTOR)) % SECTOR, 0xff)]);
  const blocks = keys.map((key) => secureBootV2Block(openssl, key, padded));
  const sector = Buffer.concat([...blocks, Buffer.alloc(SECTOR - blocks.length * BLOCK, 0xff)]);
  return Buffer.concat([padded, sector]);
}

function secureBootV2Block(openssl: OpenSsl, key: TestKey, content: Buffer): Buffer {
  const publicKey = createPublicKey(key.publicPem);
  let body: Buffer;
  if (publicKey.asymmetricKeyType === 'rsa') {
    const jwk = publicKey.export({ format: 'jwk' });
    const n = bigFromBase64Url(jwk.n!);
    const bits = n.toString(2).length;
    const rinv = (1n << BigInt(2 * bits)) % n;
    const mPrime = -modularInverse(n, 1n << 32n) & 0xffffffffn;
    const signature = openssl.sign(key, content, 'sha256', { mode: 'pss', saltLength: 32 });
    body = Buffer.concat([
      Buffer.from([0xe7, 0x02, 0, 0]),
      openssl.digest(content),
      fixedLittleEndian(n, 384),
      u32(Number(bigFromBase64Url(jwk.e!))),
      fixedLittleEndian(rinv, 384),
      u32(Number(mPrime)),
      Buffer.from(signature).reverse(),
    ]);
  } else {
    const namedCurve = publicKey.asymmetricKeyDetails?.namedCurve;
    const curve = namedCurve === 'secp384r1' ? 3 : namedCurve === 'prime256v1' ? 2 : 1;
    const size = curve === 3 ? 48 : curve === 2 ? 32 : 24;
    const hash = curve === 3 ? 'sha384' : 'sha256';
    const { r, s } = decodeDerSignature(openssl.sign(key, content, hash));
    // The uncompressed point 04 ‖ x ‖ y ends the SubjectPublicKeyInfo (JWK export has no P-192).
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const x = BigInt('0x' + spki.subarray(spki.length - 2 * size, spki.length - size).toString('hex'));
    const y = BigInt('0x' + spki.subarray(spki.length - size).toString('hex'));
    const digest = openssl.digest(content, hash);
    const pointSpace = curve === 3 ? 96 : 64;
    const point = Buffer.concat([fixedLittleEndian(x, size), fixedLittleEndian(y, size)]);
    const rs = Buffer.concat([fixedLittleEndian(r, size), fixedLittleEndian(s, size)]);
    body = Buffer.concat([
      Buffer.from([0xe7, 0x03, curve === 3 ? 1 : 0, 0]),
      digest,
      Buffer.from([curve]),
      point,
      Buffer.alloc(pointSpace - point.length),
      rs,
      Buffer.alloc(pointSpace - rs.length),
    ]);
    body = Buffer.concat([body, Buffer.alloc(1196 - body.length)]);
  }
  return Buffer.concat([body, u32(crc32(body)), Buffer.alloc(16)]);
}

/** r and s of a DER `SEQUENCE { INTEGER r, INTEGER s }` ECDSA signature. */
export function decodeDerSignature(der: Uint8Array): { r: bigint; s: bigint } {
  let at = 2 + (der[1]! & 0x80 ? der[1]! & 0x7f : 0);
  const integer = (): bigint => {
    if (der[at] !== 0x02) throw new Error('not a DER ECDSA signature');
    const length = der[at + 1]!;
    const value = BigInt('0x' + (Buffer.from(der.subarray(at + 2, at + 2 + length)).toString('hex') || '0'));
    at += 2 + length;
    return value;
  };
  return { r: integer(), s: integer() };
}

function bigFromBase64Url(text: string): bigint {
  return BigInt('0x' + Buffer.from(text, 'base64url').toString('hex'));
}

function fixedBigEndian(value: bigint, size: number): Buffer {
  return Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
}

function fixedLittleEndian(value: bigint, size: number): Buffer {
  return fixedBigEndian(value, size).reverse();
}

function modularInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

/** The verifier's view of a test key. */
export function publicKeyOf(key: TestKey): PublicKey {
  const parsed = parsePublicKey(key.publicPem);
  if (!parsed.ok) throw new Error(`openssl wrote a public key the parser refuses: ${parsed.error}`);
  return parsed.key;
}

/** A copy with one bit of byte `at` inverted. */
export function withBitFlipped(bytes: Uint8Array, at: number, mask = 0x01): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ mask;
  return copy;
}

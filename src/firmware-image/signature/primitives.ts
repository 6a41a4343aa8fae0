import { constants, createHash, publicDecrypt, verify } from 'node:crypto';
import type { PublicKey } from './public-key.js';

export type Hash = 'sha256' | 'sha384' | 'sha512';

export const HASH_LENGTH: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** Bytes an RSA key's signatures have. */
export function rsaSignatureLength(key: PublicKey): number {
  return Math.ceil(key.bits / 8);
}

/*
 * node:crypto reports a malformed signature (wrong length, bad DER, a point off the curve) by throwing rather than
 * returning false. For a verifier, both mean "does not verify", so each call below answers with a boolean.
 */

/** RSASSA-PKCS1-v1_5 with DigestInfo, as `openssl dgst -sign` makes it. */
export function verifyRsaPkcs1(
  data: Uint8Array,
  key: PublicKey,
  signature: Uint8Array,
  hash: Hash = 'sha256',
): boolean {
  try {
    return verify(hash, data, { key: key.keyObject, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
}

/** PKCS#1 type-1 padding around the bare SHA-256 digest, without DigestInfo (esp8266/Arduino ≤ 2.5.2). */
export function verifyRsaRawDigest(data: Uint8Array, key: PublicKey, signature: Uint8Array): boolean {
  try {
    const recovered = publicDecrypt({ key: key.keyObject, padding: constants.RSA_PKCS1_PADDING }, signature);
    return recovered.equals(createHash('sha256').update(data).digest());
  } catch {
    return false;
  }
}

export function verifyRsaPss(
  data: Uint8Array,
  key: PublicKey,
  signature: Uint8Array,
  hash: Hash,
  saltLength: number,
): boolean {
  try {
    return verify(hash, data, { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
  } catch {
    return false;
  }
}

/** ECDSA; `ieee-p1363` is `r ‖ s` big-endian, `der` the ASN.1 SEQUENCE. */
export function verifyEcdsa(
  data: Uint8Array,
  key: PublicKey,
  signature: Uint8Array,
  hash: Hash,
  encoding: 'der' | 'ieee-p1363',
): boolean {
  try {
    return verify(hash, data, { key: key.keyObject, dsaEncoding: encoding }, signature);
  } catch {
    return false;
  }
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function reversed(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes).reverse();
}

export function u32le(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

import { readEsp8266Trailer } from './esp8266-trailer.js';
import { rsaSignatureLength, verifyRsaPkcs1, verifyRsaRawDigest } from './primitives.js';
import type { SignatureCandidate } from './types.js';
import { INVALID, slice, type CandidateVerifier } from './verdict.js';

/**
 * esp8266/Arduino signed images (protocol.md §7.1): `payload ‖ signature ‖ u32 LE length`. The same bytes could be
 * the ≥ 2.6 form (PKCS#1 v1.5 with DigestInfo) or the ≤ 2.5.2 one (raw digest); only a key tells them apart.
 * `imageEnd` is where the sketch ends (for gzip uploads, 0: the `.gz` data is opaque here).
 */
export function locateEsp8266Signature(bytes: Uint8Array, imageEnd: number): SignatureCandidate | undefined {
  const trailer = readEsp8266Trailer(bytes);
  if (!trailer || trailer.signature.offset < imageEnd) return undefined;
  const length = trailer.signature.length;
  return {
    layout: 'esp8266',
    signedRange: trailer.payload,
    signatureRange: { offset: trailer.signature.offset, length: length + 4 },
    algorithms: ['rsa-pkcs1-sha256', 'rsa-pkcs1-raw-sha256'],
    keyBits: [length * 8],
    keyDigests: [],
    blocks: undefined,
    evidence: `the last 4 bytes announce a ${length}-byte signature (RSA-${length * 8}) before them`,
    problems: [],
  };
}

export const verifyEsp8266Signature: CandidateVerifier = (bytes, candidate, key) => {
  if (key.type !== 'rsa') return { valid: false, problem: 'ESP8266 boards verify RSA signatures only' };
  const signature = slice(bytes, {
    offset: candidate.signatureRange.offset,
    length: candidate.signatureRange.length - 4,
  });
  if (rsaSignatureLength(key) !== signature.length) return INVALID;
  const payload = slice(bytes, candidate.signedRange);
  if (verifyRsaPkcs1(payload, key, signature)) return { valid: true, algorithm: 'rsa-pkcs1-sha256', layout: 'esp8266' };
  if (verifyRsaRawDigest(payload, key, signature)) {
    return { valid: true, algorithm: 'rsa-pkcs1-raw-sha256', layout: 'esp8266-legacy' };
  }
  return INVALID;
};

import { HASH_LENGTH, rsaSignatureLength, verifyEcdsa, verifyRsaPss, type Hash } from './primitives.js';
import type { SignatureAlgorithm, SignatureCandidate } from './types.js';
import { INVALID, slice, type CandidateVerifier } from './verdict.js';

const TRAILER = 512;
const RSA_LENGTHS = [256, 384, 512];
const HASHES: Hash[] = ['sha256', 'sha384', 'sha512'];

/**
 * arduino-esp32 ≥ 3.3 with `-DUPDATE_SIGN` (protocol.md §7.2, `tools/bin_signing.py`): `image ‖ signature
 * zero-padded to 512 bytes`, no length word. The hash (SHA-256/384/512) is a setting of the board, not written in
 * the image, so a key has to try each. An ECDSA signature is DER and says its own length; an RSA signature is as
 * long as the modulus, so the zero padding after it narrows the key size. `imageEnd` is where the ESP32 image ends.
 */
export function locateArduinoEsp32Signature(bytes: Uint8Array, imageEnd: number): SignatureCandidate | undefined {
  if (bytes.length - imageEnd !== TRAILER) return undefined;
  const trailer = bytes.subarray(imageEnd);
  if (trailer.every((b) => b === 0xff) || trailer.every((b) => b === 0)) return undefined;
  const base = {
    layout: 'arduino-esp32' as const,
    signedRange: { offset: 0, length: imageEnd },
    signatureRange: { offset: imageEnd, length: TRAILER },
    keyDigests: [],
    blocks: undefined,
  };
  const derLength = derSequenceLength(trailer);
  if (derLength !== undefined && trailer.subarray(derLength).every((b) => b === 0)) {
    return {
      ...base,
      algorithms: HASHES.map((hash) => `ecdsa-${hash}` as SignatureAlgorithm),
      keyBits: [derLength <= 72 ? 256 : 384],
      evidence: `a 512-byte trailer holding a ${derLength}-byte DER ECDSA signature and zero padding`,
      problems: [],
    };
  }
  const lastNonZero = trailer.findLastIndex((b) => b !== 0);
  const lengths = RSA_LENGTHS.filter((length) => length > lastNonZero);
  return {
    ...base,
    algorithms: HASHES.map((hash) => `rsa-pss-${hash}` as SignatureAlgorithm),
    keyBits: lengths.map((length) => length * 8),
    evidence:
      lengths.length === 1
        ? '512 bytes after the image with no zero padding, as an RSA-4096 signature would fill them'
        : `512 bytes after the image: an RSA signature of up to ${lengths[0]} bytes, then zero padding`,
    problems:
      lengths.length === 1
        ? ['nothing in these 512 bytes proves they are a signature: only a key can confirm it (or show they are not)']
        : [],
  };
}

export const verifyArduinoEsp32Signature: CandidateVerifier = (bytes, candidate, key) => {
  const trailer = slice(bytes, candidate.signatureRange);
  const image = slice(bytes, candidate.signedRange);
  if (key.type === 'rsa') {
    const length = rsaSignatureLength(key);
    if (length > TRAILER) return INVALID;
    const signature = trailer.subarray(0, length);
    // PSS with the maximum salt, k − hLen − 2, as bin_signing.py signs and mbedtls 3 on the board demands.
    const hash = HASHES.find((h) => verifyRsaPss(image, key, signature, h, length - HASH_LENGTH[h] - 2));
    return hash ? { valid: true, algorithm: `rsa-pss-${hash}` } : INVALID;
  }
  const derLength = derSequenceLength(trailer);
  if (derLength === undefined) return INVALID;
  const signature = trailer.subarray(0, derLength);
  const hash = HASHES.find((h) => verifyEcdsa(image, key, signature, h, 'der'));
  return hash ? { valid: true, algorithm: `ecdsa-${hash}` } : INVALID;
};

/** Total length of a DER `SEQUENCE { INTEGER, INTEGER }` at the start of `bytes`, if that is what starts there. */
function derSequenceLength(bytes: Uint8Array): number | undefined {
  if (bytes[0] !== 0x30) return undefined;
  let header = 2;
  let length = bytes[1]!;
  if (length === 0x81) {
    length = bytes[2]!;
    header = 3;
  } else if (length > 0x7f) {
    return undefined;
  }
  const end = header + length;
  if (end > bytes.length) return undefined;
  let at = header;
  for (let i = 0; i < 2; i++) {
    if (bytes[at] !== 0x02 || at + 2 > end) return undefined;
    at += 2 + bytes[at + 1]!;
  }
  return at === end ? end : undefined;
}

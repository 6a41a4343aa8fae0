import { u32le, verifyEcdsa } from './primitives.js';
import type { SignatureCandidate } from './types.js';
import { INVALID, slice, type CandidateVerifier } from './verdict.js';

const BLOCK = 68;
/** esptool's `--secure-pad` leaves 12 bytes after the block so the file ends on a 64 KiB boundary. */
const MAX_TRAILING = 16;

/**
 * ESP-IDF secure boot v1 app signatures (ESP32 before ECO3; esptool `espsecure sign_data --version 1`): right after
 * the image, `u32 0` (the block version) and a 64-byte ECDSA P-256 signature, `r ‖ s` big-endian, over the image.
 * The block carries no public key: without the device's key nobody can tell whether it is valid.
 */
export function locateSecureBootV1Signature(bytes: Uint8Array, imageEnd: number): SignatureCandidate | undefined {
  const tail = bytes.length - imageEnd;
  if (tail < BLOCK || tail > BLOCK + MAX_TRAILING || u32le(bytes, imageEnd) !== 0) return undefined;
  if (bytes.subarray(imageEnd + 4, imageEnd + BLOCK).every((b) => b === 0 || b === 0xff)) return undefined;
  const trailing = tail - BLOCK;
  return {
    layout: 'secure-boot-v1',
    signedRange: { offset: 0, length: imageEnd },
    signatureRange: { offset: imageEnd, length: BLOCK },
    algorithms: ['ecdsa-sha256'],
    keyBits: [256],
    keyDigests: [],
    blocks: undefined,
    evidence: 'a 68-byte signature block (version 0, ECDSA P-256) right after the image',
    problems: [
      'secure boot v1 signatures carry no public key: this one can only be verified with the key of the boards it is for',
      ...(trailing > 0 ? [`${trailing} bytes follow the signature block (esptool's secure padding leaves 12)`] : []),
    ],
  };
}

export const verifySecureBootV1Signature: CandidateVerifier = (bytes, candidate, key) => {
  if (key.curve !== 'P-256') return { valid: false, problem: 'secure boot v1 verifies ECDSA P-256 keys only' };
  const signature = slice(bytes, { offset: candidate.signatureRange.offset + 4, length: 64 });
  return verifyEcdsa(slice(bytes, candidate.signedRange), key, signature, 'sha256', 'ieee-p1363')
    ? { valid: true, algorithm: 'ecdsa-sha256' }
    : INVALID;
};

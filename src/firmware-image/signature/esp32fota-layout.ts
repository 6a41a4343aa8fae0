import { rsaSignatureLength, verifyRsaPkcs1 } from './primitives.js';
import type { SignatureCandidate } from './types.js';
import { INVALID, slice, type CandidateVerifier } from './verdict.js';

/** esp32FOTA's `FW_SIGNATURE_LENGTH`: the first 512 bytes of a signed download are the signature. */
export const ESP32FOTA_SIGNATURE_LENGTH = 512;

/**
 * chrisjoyce911/esp32FOTA with `check_sig` (protocol.md §7.4): `signature ‖ image`, RSA PKCS#1 v1.5 SHA-256 over
 * everything after the signature. The client hands all 512 bytes to mbedtls, so only RSA-4096 keys verify.
 */
export function esp32FotaCandidate(bytes: Uint8Array): SignatureCandidate {
  return {
    layout: 'esp32fota',
    signedRange: { offset: ESP32FOTA_SIGNATURE_LENGTH, length: bytes.length - ESP32FOTA_SIGNATURE_LENGTH },
    signatureRange: { offset: 0, length: ESP32FOTA_SIGNATURE_LENGTH },
    algorithms: ['rsa-pkcs1-sha256'],
    keyBits: [4096],
    keyDigests: [],
    blocks: undefined,
    evidence: 'the file does not start with an image, but an image starts 512 bytes in, after an esp32FOTA signature',
    problems: [],
  };
}

export const verifyEsp32FotaSignature: CandidateVerifier = (bytes, candidate, key) => {
  if (key.type !== 'rsa') return { valid: false, problem: 'esp32FOTA verifies RSA signatures only' };
  if (rsaSignatureLength(key) !== ESP32FOTA_SIGNATURE_LENGTH) {
    return {
      valid: false,
      problem: `esp32FOTA reads a 512-byte signature, which only RSA-4096 keys make (this key has ${key.bits} bits)`,
    };
  }
  return verifyRsaPkcs1(slice(bytes, candidate.signedRange), key, slice(bytes, candidate.signatureRange))
    ? { valid: true, algorithm: 'rsa-pkcs1-sha256' }
    : INVALID;
};

import type { PublicKey } from './public-key.js';
import type { SignatureAlgorithm, SignatureCandidate, SignatureLayout } from './types.js';

/** What trying one key on one candidate found. */
export type KeyVerdict =
  { valid: true; algorithm: SignatureAlgorithm; layout?: SignatureLayout } | { valid: false; problem?: string };

export type CandidateVerifier = (bytes: Uint8Array, candidate: SignatureCandidate, key: PublicKey) => KeyVerdict;

export const INVALID: KeyVerdict = { valid: false };

export function slice(bytes: Uint8Array, range: { offset: number; length: number }): Uint8Array {
  return bytes.subarray(range.offset, range.offset + range.length);
}

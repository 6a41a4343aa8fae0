import type { ImageAnalysis } from '../../firmware-image/analysis.js';
import {
  esp8266SigningProblems,
  inspectSignature,
  type PublicKey,
  type SignatureAlgorithm,
  type SignatureLayout,
} from '../../firmware-image/index.js';
import type { ErrorCode } from '../../lib/domain-error.js';

/**
 * What an upload's signature was found to be, against the platform's keys at upload, as the image row keeps it
 * (`images.signature`) and the API, CLI and UI show it.
 * - `unsigned`: no signed layout fits the bytes;
 * - `verified`: one of the platform's keys verifies it;
 * - `signed`: a layout fits, but the platform has no keys to check it with;
 * - `invalid`: the platform has keys and none verifies it.
 */
export interface ImageSignature {
  state: 'unsigned' | 'verified' | 'signed' | 'invalid';
  layout: SignatureLayout | null;
  algorithm: SignatureAlgorithm | null;
  /** The platform keys that verify it; when none does, the keys the signature carries (secure boot v2). */
  keyDigests: string[];
  /** This server signed it at upload (README "Server-side signing"); `original` is what was uploaded. */
  signedByServer: boolean;
  original: { size: number; md5: string; sha256: string } | null;
  problems: string[];
}

/** Why a platform with keys refuses an upload: an error code and a sentence for people. */
export interface SignatureRefusal {
  code: Extract<ErrorCode, 'unsigned-image' | 'wrong-signing-key' | 'flash-mode-mismatch' | 'gzip-length-trap'>;
  message: string;
}

export const FLASH_MODES = ['qio', 'qout', 'dio', 'dout'] as const;
export type FlashMode = (typeof FLASH_MODES)[number];

/**
 * The signature of `bytes` against the platform's keys, and whether a platform with keys must refuse it. Pure.
 * Filesystem images are not signed by any stock client, so only application images are judged.
 */
export function judgeSignature(
  bytes: Uint8Array,
  analysis: Exclude<ImageAnalysis, { kind: 'rejected' }>,
  keys: PublicKey[],
  boardFlashMode: FlashMode | null,
): { signature: ImageSignature; refusal: SignatureRefusal | undefined } {
  const found = inspectSignature(bytes, analysis, keys);
  const state: ImageSignature['state'] = !found.signed
    ? 'unsigned'
    : found.verified
      ? 'verified'
      : keys.length === 0
        ? 'signed'
        : 'invalid';
  const esp8266Rules = found.esp8266
    ? esp8266SigningProblems(found.esp8266, boardFlashMode === null ? undefined : FLASH_MODES.indexOf(boardFlashMode))
    : [];
  const signature: ImageSignature = {
    state,
    layout: found.layout ?? null,
    algorithm: found.algorithm ?? null,
    keyDigests: found.verified ? found.validKeys : found.keyDigests,
    signedByServer: false,
    original: null,
    problems: [...found.problems, ...esp8266Rules],
  };
  const refusal =
    keys.length > 0 && analysis.kind === 'app' ? refusalOf(signature, keys.length, esp8266Rules) : undefined;
  return { signature, refusal };
}

function refusalOf(signature: ImageSignature, keyCount: number, esp8266Rules: string[]): SignatureRefusal | undefined {
  const keys = `${keyCount} trusted key${keyCount === 1 ? '' : 's'}`;
  if (signature.state === 'unsigned') {
    return {
      code: 'unsigned-image',
      message: `this image is not signed, and the platform's boards install only images signed by one of its ${keys}: sign it (docs/security.md) and upload it again`,
    };
  }
  if (signature.state === 'invalid') {
    const why = signature.problems.length > 0 ? ` (${signature.problems.join('; ')})` : '';
    return {
      code: 'wrong-signing-key',
      message: `this image is signed, but none of the platform's ${keys} verifies it: its boards would download it and throw it away${why}`,
    };
  }
  const flash = esp8266Rules.find((p) => p.includes('flash mode'));
  if (flash) return { code: 'flash-mode-mismatch', message: flash };
  const gzip = esp8266Rules.find((p) => p.includes('.gz'));
  if (gzip) return { code: 'gzip-length-trap', message: gzip };
  return undefined;
}

export function parseImageSignature(json: string | null): ImageSignature | null {
  return json ? (JSON.parse(json) as ImageSignature) : null;
}

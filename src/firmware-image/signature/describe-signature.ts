import { locateArduinoEsp32Signature } from './arduino-esp32-layout.js';
import { findEmbeddedPublicKeys } from './embedded-keys.js';
import { esp32FotaCandidate } from './esp32fota-layout.js';
import { locateEsp8266Signature } from './esp8266-layout.js';
import { locateSecureBootV1Signature } from './secure-boot-v1.js';
import { locateSecureBootV2Signature } from './secure-boot-v2.js';
import type { Esp8266SigningFacts, SignatureCandidate, SignatureSummary } from './types.js';

/** What the signature layouts need to know about the image around them. */
export interface SignatureContext {
  family: 'esp8266' | 'esp32';
  /** Where the image proper ends in the file; 0 for gzip uploads, whose compressed data is opaque here. */
  imageEnd: number;
  gzip: boolean;
  /** esp32FOTA: the image starts 512 bytes in, after the signature. */
  prependedSignature: boolean;
  /** Where to look for embedded PEM keys when not in the file itself: the inflated image of a gzip upload. */
  content?: Uint8Array;
}

/**
 * The key-less part of signature handling, run on every upload: which signed layouts the bytes fit, what they say
 * about algorithm and keys, and which public keys the image carries. Verifying against keys is `inspectSignature`.
 */
export function describeSignature(bytes: Uint8Array, context: SignatureContext): SignatureSummary {
  const candidates = locateCandidates(bytes, context);
  const algorithms = new Set(candidates.flatMap((c) => c.algorithms));
  const problems = candidates.length === 1 ? [...candidates[0]!.problems] : [];
  if (candidates.length > 1) {
    problems.push(
      `the bytes fit ${candidates.length} signed layouts (${candidates.map((c) => c.layout).join(', ')}): a key tells which`,
    );
  }
  const tail = bytes.length - context.imageEnd;
  if (candidates.length === 0 && context.family === 'esp32' && tail > 0) {
    const padding = bytes.subarray(context.imageEnd).every((b) => b === 0xff);
    if (!padding) problems.push(`${tail} bytes follow the image and fit no signed layout`);
  }
  return {
    signed: candidates.length > 0,
    layout: candidates.length === 1 ? candidates[0]!.layout : undefined,
    algorithm: algorithms.size === 1 ? [...algorithms][0] : undefined,
    keyDigests: [...new Set(candidates.flatMap((c) => c.keyDigests))],
    candidates,
    embeddedPublicKeys: findEmbeddedPublicKeys(context.content ?? bytes),
    esp8266: context.family === 'esp8266' ? esp8266Facts(bytes, context, candidates[0]) : undefined,
    problems,
  };
}

function locateCandidates(bytes: Uint8Array, context: SignatureContext): SignatureCandidate[] {
  if (context.prependedSignature) return [esp32FotaCandidate(bytes)];
  const found =
    context.family === 'esp8266'
      ? [locateEsp8266Signature(bytes, context.imageEnd)]
      : [
          locateSecureBootV2Signature(bytes, context.imageEnd),
          locateSecureBootV1Signature(bytes, context.imageEnd),
          locateArduinoEsp32Signature(bytes, context.imageEnd),
        ];
  return found.filter((c): c is SignatureCandidate => c !== undefined);
}

function esp8266Facts(
  bytes: Uint8Array,
  context: SignatureContext,
  candidate: SignatureCandidate | undefined,
): Esp8266SigningFacts {
  return {
    signedLength: candidate ? candidate.signedRange.length : bytes.length,
    gzip: context.gzip,
    flashModeCode: context.gzip ? undefined : bytes[2],
  };
}

import type { ImageAnalysis } from '../analysis.js';
import { verifyArduinoEsp32Signature } from './arduino-esp32-layout.js';
import { describeSignature, type SignatureContext } from './describe-signature.js';
import { verifyEsp32FotaSignature } from './esp32fota-layout.js';
import { verifyEsp8266Signature } from './esp8266-layout.js';
import type { PublicKey } from './public-key.js';
import { verifySecureBootV1Signature } from './secure-boot-v1.js';
import { verifySecureBootV2Signature } from './secure-boot-v2.js';
import type {
  SignatureCandidate,
  SignatureLayout,
  SignatureSummary,
  SignatureVerification,
  VerifiedCandidate,
} from './types.js';
import type { CandidateVerifier } from './verdict.js';

const VERIFIERS: Record<SignatureLayout, CandidateVerifier> = {
  esp8266: verifyEsp8266Signature,
  'esp8266-legacy': verifyEsp8266Signature,
  'arduino-esp32': verifyArduinoEsp32Signature,
  'secure-boot-v2': verifySecureBootV2Signature,
  'secure-boot-v1': verifySecureBootV1Signature,
  esp32fota: verifyEsp32FotaSignature,
};

/**
 * Which of `keys` verify the signature of `bytes`, in each layout the bytes fit. `analysis` must be
 * `analyzeImage(bytes)`: its signature summary is reused. Pure and total: bytes and keys in, a result out, never
 * an exception. Costs one hash of the signed bytes per key and candidate algorithm (see bench:signature).
 */
export function inspectSignature(bytes: Uint8Array, analysis: ImageAnalysis, keys: PublicKey[]): SignatureVerification {
  const summary = summaryOf(bytes, analysis);
  const candidates = summary.candidates.map((candidate) => verifyCandidate(bytes, candidate, keys));
  const validKeys = [...new Set(candidates.flatMap((c) => c.validKeys))];
  const verified = candidates.filter((c) => c.validKeys.length > 0);
  const problems = [...summary.problems];
  for (const candidate of candidates) {
    for (const problem of candidate.problems) if (!problems.includes(problem)) problems.push(problem);
  }
  if (summary.signed && keys.length > 0 && verified.length === 0) {
    problems.push(`none of the ${keys.length} given key${keys.length === 1 ? '' : 's'} verifies the signature`);
  }
  const decided = verified.length === 1 ? verified[0] : undefined;
  return {
    ...summary,
    layout: decided?.layout ?? summary.layout,
    algorithm: decided?.verifiedAlgorithm ?? summary.algorithm,
    candidates,
    validKeys,
    verified: validKeys.length > 0,
    problems,
  };
}

function verifyCandidate(bytes: Uint8Array, candidate: SignatureCandidate, keys: PublicKey[]): VerifiedCandidate {
  const verify = VERIFIERS[candidate.layout];
  const validKeys: string[] = [];
  const problems = [...candidate.problems];
  let layout = candidate.layout;
  let verifiedAlgorithm: VerifiedCandidate['verifiedAlgorithm'];
  for (const key of keys) {
    const verdict = verify(bytes, candidate, key);
    if (verdict.valid) {
      if (!validKeys.includes(key.digest)) validKeys.push(key.digest);
      if (verifiedAlgorithm === undefined) {
        verifiedAlgorithm = verdict.algorithm;
        layout = verdict.layout ?? layout;
      }
    } else if (verdict.problem) {
      problems.push(`key ${key.digest.slice(0, 12)}…: ${verdict.problem}`);
    }
  }
  if (layout === 'esp8266-legacy') {
    problems.push('signed the esp8266/Arduino ≤ 2.5.2 way (raw digest): boards on core 2.6 or newer reject it');
  }
  return { ...candidate, layout, validKeys, verifiedAlgorithm, problems };
}

function summaryOf(bytes: Uint8Array, analysis: ImageAnalysis): SignatureSummary {
  if (analysis.kind !== 'filesystem' && analysis.signature) return analysis.signature;
  return describeSignature(bytes, contextOf(analysis));
}

/** For analyses stored before they carried a signature summary. */
function contextOf(analysis: ImageAnalysis): SignatureContext {
  if (analysis.kind === 'app' && analysis.family === 'esp8266') {
    const gzip = analysis.compression === 'gzip';
    return { family: 'esp8266', imageEnd: gzip ? 0 : analysis.imageLength, gzip, prependedSignature: false };
  }
  const imageEnd = analysis.kind === 'app' ? analysis.imageLength : analysis.size;
  const prependedSignature = analysis.kind === 'rejected' && analysis.code === 'signed-esp32fota';
  return { family: 'esp32', imageEnd, gzip: false, prependedSignature };
}

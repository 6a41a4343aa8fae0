import { analyzeImage, type ImageAnalysis } from '../../firmware-image/index.js';
import type { ServerSigner } from './server-signer.js';
import { assembleSigned, signingPlan } from './signing-layout.js';

type KeptAnalysis = Exclude<ImageAnalysis, { kind: 'rejected' }>;

/**
 * The upload signed by the server in its boards' layout, analysed again; undefined when there is no layout the
 * signer's key can make for this image (the upload then stays unsigned, and a platform with keys refuses it).
 */
export async function signUpload(
  signer: ServerSigner,
  bytes: Uint8Array,
  analysis: KeptAnalysis,
): Promise<{ bytes: Buffer; analysis: KeptAnalysis } | undefined> {
  const plan = signingPlan(analysis, signer.publicKey);
  if ('error' in plan) return undefined;
  const signed = assembleSigned(bytes, plan, await signer.sign(bytes, plan.algorithm));
  const again = analyzeImage(signed);
  return again.kind === 'rejected' ? undefined : { bytes: signed, analysis: again };
}

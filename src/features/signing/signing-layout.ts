import type { ImageAnalysis, PublicKey, SignatureAlgorithm, SignatureLayout } from '../../firmware-image/index.js';

/** How the server signs an image for its boards: the layout their client verifies and the algorithm it expects. */
export interface SigningPlan {
  layout: Extract<SignatureLayout, 'esp8266' | 'arduino-esp32'>;
  algorithm: Extract<SignatureAlgorithm, 'rsa-pkcs1-sha256' | 'rsa-pss-sha256' | 'ecdsa-sha256'>;
}

/**
 * Which layout the server signs an application image in (protocol.md §7): ESP8266 sketches get the esp8266/Arduino
 * trailer (RSA PKCS#1 v1.5, SHA-256, as `openssl dgst -sha256 -sign`); ESP32 images get arduino-esp32's 512-byte
 * trailer (RSA-PSS with the maximum salt, or ECDSA). ESP-IDF secure boot and esp32FOTA are signed by their own tools
 * at build time (docs/security.md). Pure: a plan, or why there is none.
 */
export function signingPlan(
  analysis: Exclude<ImageAnalysis, { kind: 'rejected' }>,
  key: Pick<PublicKey, 'type' | 'bits'>,
): SigningPlan | { error: string } {
  if (analysis.kind !== 'app') return { error: 'filesystem images are not signed' };
  if (analysis.family === 'esp8266') {
    if (key.type !== 'rsa') return { error: 'esp8266/Arduino verifies RSA signatures only; the signing key is EC' };
    return { layout: 'esp8266', algorithm: 'rsa-pkcs1-sha256' };
  }
  if (key.type === 'rsa' && key.bits > 4096) return { error: 'arduino-esp32 takes RSA keys up to 4096 bits' };
  if (key.type === 'ec' && key.bits !== 256)
    return { error: 'the server signs arduino-esp32 images with P-256 keys only' };
  return { layout: 'arduino-esp32', algorithm: key.type === 'rsa' ? 'rsa-pss-sha256' : 'ecdsa-sha256' };
}

/** The signed file: the upload with the signature in the plan's layout. */
export function assembleSigned(unsigned: Uint8Array, plan: SigningPlan, signature: Uint8Array): Buffer {
  if (plan.layout === 'esp8266') {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(signature.length);
    return Buffer.concat([unsigned, signature, length]);
  }
  if (signature.length > 512) throw new Error(`a ${signature.length}-byte signature does not fit the 512-byte trailer`);
  return Buffer.concat([unsigned, signature, Buffer.alloc(512 - signature.length)]);
}

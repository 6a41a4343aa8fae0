import type { PlatformKeyRow } from '../../db/tables.js';
import type { EmbeddedPublicKey } from '../../firmware-image/index.js';
import { parseImageSignature } from './image-signature.js';

/** JSON shapes of signing in the REST API. Public keys only: nothing here can carry private material. */
export function platformKeyJson(k: PlatformKeyRow) {
  return {
    id: k.id,
    digest: k.digest,
    type: k.type,
    bits: k.bits,
    label: k.label,
    pem: k.pem,
    addedBy: k.created_by,
    addedAt: new Date(Number(k.created_at)).toISOString(),
  };
}

export function embeddedKeyJson(k: EmbeddedPublicKey) {
  return { digest: k.digest, type: k.type, bits: k.bits, offset: k.offset, pem: k.pem };
}

/** An image's signature as the API shows it; `null` for images uploaded before signatures were recorded. */
export function imageSignatureJson(json: string | null) {
  const s = parseImageSignature(json);
  if (!s) return null;
  return {
    state: s.state,
    layout: s.layout,
    algorithm: s.algorithm,
    keyDigests: s.keyDigests,
    signedByServer: s.signedByServer,
    original: s.original,
    problems: s.problems,
  };
}

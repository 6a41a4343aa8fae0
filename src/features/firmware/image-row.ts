import type { BlobInfo } from '../../blobs/blob-store.js';
import type { NewImage } from '../../db/tables.js';
import type { ImageAnalysis } from '../../firmware-image/index.js';
import type { ImageSignature } from '../signing/image-signature.js';
import { sketchMd5Variants } from '../../firmware-image/sketch-digests.js';
import { versionKey } from '../../lib/version.js';

/** The catalogue row for an analysed image: the one place upload and import describe an image. */
export function imageRow(input: {
  platformId: number;
  version: string;
  bytes: Uint8Array;
  blob: BlobInfo;
  analysis: Exclude<ImageAnalysis, { kind: 'rejected' }>;
  identitySource: string | null;
  filename: string | null;
  uploadedAt: number;
  /** What the upload's signature was found to be; absent where nothing judged it (import of old backups). */
  signature?: ImageSignature | undefined;
}): NewImage {
  const { analysis } = input;
  const app = analysis.kind === 'app' ? analysis : undefined;
  const variants = app ? sketchMd5Variants(input.bytes, app) : [];
  return {
    platform_id: input.platformId,
    kind: app ? 'app' : 'filesystem',
    version: input.version,
    version_key: versionKey(input.version),
    chip: app?.chip ?? null,
    size: input.blob.size,
    md5: input.blob.md5,
    sha256: input.blob.sha256,
    appended_digest: app?.family === 'esp32' ? (app.appendedDigest ?? null) : null,
    md5_variants: variants.length ? JSON.stringify(variants) : null,
    analysis: JSON.stringify(analysis),
    identity_source: input.identitySource,
    filename: input.filename?.slice(0, 255) ?? null,
    uploaded_at: input.uploadedAt,
    signature: input.signature ? JSON.stringify(input.signature) : null,
  };
}

import type { Stores } from '../catalogue.js';
import type { PlatformRow } from '../../db/tables.js';
import { parsePublicKey, type ImageAnalysis, type PublicKey } from '../../firmware-image/index.js';
import { FLASH_MODES, judgeSignature, type FlashMode } from './image-signature.js';

/** The platform's trusted keys, ready for the verifier (keys were checked when added, so none fails to parse). */
export async function trustedKeys(stores: Stores, platformId: number): Promise<PublicKey[]> {
  const rows = await stores.platformKeys.list(platformId);
  return rows.flatMap((row) => {
    const parsed = parsePublicKey(row.pem);
    return parsed.ok ? [parsed.key] : [];
  });
}

export function boardFlashMode(platform: Pick<PlatformRow, 'flash_mode'>): FlashMode | null {
  return FLASH_MODES.find((m) => m === platform.flash_mode) ?? null;
}

/** `judgeSignature` against what the platform holds now. */
export function judgeUpload(
  bytes: Uint8Array,
  analysis: Exclude<ImageAnalysis, { kind: 'rejected' }>,
  platform: Pick<PlatformRow, 'flash_mode'>,
  keys: PublicKey[],
) {
  return judgeSignature(bytes, analysis, keys, boardFlashMode(platform));
}

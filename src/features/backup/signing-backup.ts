import type { Stores } from '../catalogue.js';
import type { PlatformRow } from '../../db/tables.js';
import { parsePublicKey, type PublicKey } from '../../firmware-image/index.js';
import { DomainError } from '../../lib/domain-error.js';
import { validateDeviceLabel } from '../platforms/platform-service.js';
import type { ExportedPlatform } from './export-format.js';

type TrustedKeys = NonNullable<ExportedPlatform['trustedKeys']>;
const FLASH_MODES = ['qio', 'qout', 'dio', 'dout'];

/**
 * A platform's trusted public keys and flash mode as the export writes them (left out when there are none): without
 * them a restored platform would take unsigned or foreign uploads its boards reject after the whole download.
 */
export async function exportSigning(
  stores: Stores,
  platform: PlatformRow,
): Promise<{ flashMode?: string; trustedKeys?: TrustedKeys }> {
  const keys = await stores.platformKeys.list(platform.id);
  return {
    ...(platform.flash_mode ? { flashMode: platform.flash_mode } : {}),
    ...(keys.length > 0
      ? {
          trustedKeys: keys.map((k) => ({
            pem: k.pem,
            label: k.label,
            createdBy: k.created_by,
            createdAt: new Date(k.created_at).toISOString(),
          })),
        }
      : {}),
  };
}

export interface CheckedSigning {
  flashMode: string | undefined;
  keys: { key: PublicKey; label: string | null; createdBy: string; createdAt: string }[];
}

/** Checks the exported keys and flash mode by the rules the API applies (public keys only, known flash modes). */
export function checkExportedSigning(
  platform: ExportedPlatform,
  where: string,
): { signing: CheckedSigning; problems: string[] } {
  const problems: string[] = [];
  const flashMode = platform.flashMode ?? undefined;
  if (flashMode !== undefined && !FLASH_MODES.includes(flashMode))
    problems.push(`${where}: flash mode ${JSON.stringify(flashMode)} is not one of ${FLASH_MODES.join(', ')}`);
  const keys = (platform.trustedKeys ?? []).flatMap((entry, i) => {
    const parsed = parsePublicKey(String(entry.pem));
    if (!parsed.ok) {
      problems.push(`${where} trusted key ${i + 1}: ${parsed.error}`);
      return [];
    }
    let label: string | null = null;
    try {
      label = validateDeviceLabel(entry.label); // the rule the keys route applies to labels
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      problems.push(`${where} trusted key ${i + 1}: ${error.message}`);
    }
    return [{ key: parsed.key, label, createdBy: entry.createdBy, createdAt: entry.createdAt }];
  });
  return { signing: { flashMode, keys }, problems };
}

/**
 * Adds the keys this platform does not trust yet (same digest: kept as it is) and the flash mode when it has none.
 * Answers how many keys were added.
 */
export async function restoreSigning(
  tx: Stores,
  platform: PlatformRow,
  signing: CheckedSigning,
  now: number,
): Promise<number> {
  if (signing.flashMode && !platform.flash_mode)
    await tx.platforms.update(platform.id, { flash_mode: signing.flashMode, updated_at: now });
  const trusted = new Set((await tx.platformKeys.list(platform.id)).map((k) => k.digest));
  let added = 0;
  for (const { key, label, createdBy, createdAt } of signing.keys) {
    if (trusted.has(key.digest)) continue;
    await tx.platformKeys.insert({
      platform_id: platform.id,
      digest: key.digest,
      type: key.type,
      bits: key.bits,
      pem: key.pem,
      label,
      created_by: createdBy || 'import',
      created_at: Date.parse(createdAt) || now,
    });
    trusted.add(key.digest);
    added++;
  }
  return added;
}

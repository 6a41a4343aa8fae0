import type { Stores } from '../catalogue.js';
import { formatMac, normalizeMac } from '../../lib/mac.js';
import { DEVICE_KEY_PATTERN } from '../device-keys/device-key.js';
import type { ExportedPlatform } from './export-format.js';

type DeviceKeys = NonNullable<ExportedPlatform['deviceKeys']>;

/**
 * A platform's device keys as the export writes them (left out when there are none). Keys travel as they are: they
 * are in the ESPHome configurations flashed into the boards, so a restore that minted new ones would strand them.
 */
export async function exportDeviceKeys(stores: Stores, platformId: number): Promise<{ deviceKeys?: DeviceKeys }> {
  const keys = await stores.deviceKeys.list(platformId);
  if (keys.length === 0) return {};
  return {
    deviceKeys: keys.map((k) => ({
      mac: formatMac(k.mac),
      key: k.key,
      createdBy: k.created_by,
      createdAt: new Date(k.created_at).toISOString(),
    })),
  };
}

/** Checks an exported platform's device keys by the rules minting follows; answers them normalised, and the problems. */
export function checkExportedDeviceKeys(
  platform: ExportedPlatform,
  where: string,
): { keys: DeviceKeys; problems: string[] } {
  const problems: string[] = [];
  const keys = (platform.deviceKeys ?? []).flatMap((entry) => {
    const what = `${where} device key of ${JSON.stringify(entry.mac)}`;
    const mac = normalizeMac(String(entry.mac));
    if (!mac) problems.push(`${what}: not a MAC address`);
    if (typeof entry.key !== 'string' || !DEVICE_KEY_PATTERN.test(entry.key))
      problems.push(
        `${what}: ${JSON.stringify(entry.key)} is not a device key (22 characters of A–Z, a–z, 0–9, - and _)`,
      );
    return mac ? [{ ...entry, mac }] : [];
  });
  return { keys, problems };
}

/**
 * Restores the keys this server does not have: a device that already has a key here keeps it, and a key string
 * already in use here (the same export imported twice) is not added again. Answers how many were restored.
 */
export async function restoreDeviceKeys(
  tx: Stores,
  platformId: number,
  keys: DeviceKeys,
  now: number,
): Promise<number> {
  let restored = 0;
  for (const entry of keys) {
    if (await tx.deviceKeys.find(platformId, entry.mac)) continue;
    if (await tx.deviceKeys.byKey(entry.key)) continue;
    await tx.deviceKeys.replace({
      key: entry.key,
      platform_id: platformId,
      mac: entry.mac,
      created_at: Date.parse(entry.createdAt) || now,
      created_by: entry.createdBy || 'import',
    });
    restored++;
  }
  return restored;
}

import type { Stores } from '../catalogue.js';
import { formatMac, normalizeMac } from '../../lib/mac.js';
import { versionKey } from '../../lib/version.js';
import { devicePinKey, groupKey, isDevicePin, validateGroupName } from '../groups/group-input.js';
import type { ExportedPlatform } from './export-format.js';

type Groups = NonNullable<ExportedPlatform['groups']>;
type Pins = NonNullable<ExportedPlatform['pins']>;

/** A platform's groups and single-device pins as the export writes them (fields left out when there are none). */
export async function exportGroups(stores: Stores, platformId: number): Promise<{ groups?: Groups; pins?: Pins }> {
  const groups: Groups = [];
  const pins: Pins = [];
  for (const group of await stores.groups.list(platformId, { devicePins: true })) {
    const macs = await stores.groups.members(group.id);
    if (isDevicePin(group.name_key)) {
      if (group.pinned_version !== null && macs[0])
        pins.push({ mac: formatMac(macs[0]), version: group.pinned_version });
      continue;
    }
    groups.push({
      name: group.name,
      excluded: group.excluded === 1,
      pinnedVersion: group.pinned_version,
      macs: macs.map(formatMac),
    });
  }
  return { ...(groups.length > 0 ? { groups } : {}), ...(pins.length > 0 ? { pins } : {}) };
}

/**
 * Checks an exported platform's groups and pins by the rules the API applies (names, MACs, and versions the export
 * has as app images); answers them normalised, and the problems.
 */
export function checkExportedGroups(
  platform: ExportedPlatform,
  where: string,
): { groups: Groups; pins: Pins; problems: string[] } {
  const problems: string[] = [];
  const appVersions = new Set(platform.images.filter((i) => i.kind === 'app').map((i) => versionKey(i.version)));
  const checkVersion = (what: string, version: string) => {
    if (!appVersions.has(versionKey(version)))
      problems.push(`${what}: pinned to ${JSON.stringify(version)}, which the export has no application image of`);
  };
  const macsOf = (what: string, inputs: string[]) =>
    inputs.flatMap((input) => {
      const mac = normalizeMac(input);
      if (!mac) problems.push(`${what}: ${JSON.stringify(input)} is not a MAC address`);
      return mac ? [mac] : [];
    });
  const groups = (platform.groups ?? []).map((group) => {
    const what = `${where} group ${JSON.stringify(group.name)}`;
    let name = group.name;
    try {
      name = validateGroupName(group.name);
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
    }
    if (group.pinnedVersion !== null) checkVersion(what, group.pinnedVersion);
    return { ...group, name, macs: macsOf(what, group.macs) };
  });
  const pins = (platform.pins ?? []).flatMap((pin) => {
    const what = `${where} pin of ${JSON.stringify(pin.mac)}`;
    checkVersion(what, pin.version);
    return macsOf(what, [pin.mac]).map((mac) => ({ mac, version: pin.version }));
  });
  return { groups, pins, problems };
}

/** Creates the groups and pins this server does not have yet (same name, or a pin of the same device: kept as is). */
export async function restoreGroups(
  tx: Stores,
  platformId: number,
  exported: { groups: Groups; pins: Pins },
  now: number,
): Promise<number> {
  let created = 0;
  const add = async (name: string, key: string, excluded: boolean, version: string | null, macs: string[]) => {
    if (await tx.groups.findByName(platformId, key)) return;
    const image = version === null ? undefined : await tx.images.findByVersion(platformId, 'app', versionKey(version));
    const group = await tx.groups.insert({
      platform_id: platformId,
      name,
      name_key: key,
      excluded: excluded ? 1 : 0,
      pinned_image_id: image?.id ?? null,
      created_at: now,
    });
    await tx.groups.addMembers(group.id, [...new Set(macs)]);
    created++;
  };
  for (const group of exported.groups)
    await add(group.name, groupKey(group.name), group.excluded, group.pinnedVersion, group.macs);
  for (const pin of exported.pins)
    await add(devicePinKey(pin.mac), devicePinKey(pin.mac), false, pin.version, [pin.mac]);
  return created;
}

import { normalizeMac } from '../../lib/mac.js';
import { compareVersions, parseVersion } from '../../lib/version.js';
import { deviceStatus, type DeviceView } from '../views.js';

export const DEVICE_SORTS = ['mac', 'platform', 'version', 'seen', 'status'] as const;
export type DeviceSort = (typeof DEVICE_SORTS)[number];

/**
 * The inventory's search, done in memory over the devices already read: part of a MAC in any format, or of the
 * platform, version, IP or label. `text` is trimmed; empty matches every device.
 */
export function matchingDevices(devices: DeviceView[], text: string, labels: Map<string, string>): DeviceView[] {
  const needle = text.toLowerCase();
  const macNeedle = normalizeMac(text) ?? needle.replace(/[:\-.]/g, '');
  return devices.filter(
    (d) =>
      !needle ||
      d.mac.includes(macNeedle) ||
      [d.platform_name, d.reported_version, d.ip, labels.get(d.mac)].some((v) => v?.toLowerCase().includes(needle)),
  );
}

export function sortDevices(devices: DeviceView[], sort: DeviceSort, descending: boolean): DeviceView[] {
  const key = (d: DeviceView): string | number =>
    sort === 'mac'
      ? d.mac
      : sort === 'platform'
        ? d.platform_name.toLowerCase()
        : sort === 'status'
          ? deviceStatus(d)
          : d.last_seen_at;
  const byKey = (a: DeviceView, b: DeviceView) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  if (sort === 'version') {
    // Devices that report no version stay at the end in both directions.
    const known = devices.filter((d) => d.reported_version !== null).sort(byVersion);
    return [...(descending ? known.reverse() : known), ...devices.filter((d) => d.reported_version === null)];
  }
  const sorted = [...devices].sort(byKey);
  return descending ? sorted.reverse() : sorted;
}

/**
 * Versions as the server compares them (lib/version.ts): 0.9.0 < 0.10.0 < 1.0.0-rc.1 < 1.0.0. Labels that are not
 * versions (a commit hash) come after every version, in text order (sortDevices keeps devices that report none last).
 */
function byVersion(a: DeviceView, b: DeviceView): number {
  const va = a.reported_version ?? '';
  const vb = b.reported_version ?? '';
  const compared = compareVersions(va, vb);
  if (compared !== undefined) return compared;
  const aOrderable = parseVersion(va) !== undefined;
  const bOrderable = parseVersion(vb) !== undefined;
  if (aOrderable !== bOrderable) return aOrderable ? -1 : 1;
  return va < vb ? -1 : va > vb ? 1 : 0;
}

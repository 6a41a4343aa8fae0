import { normalizeMac } from '../../lib/mac.js';
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
        : sort === 'version'
          ? (d.reported_version ?? '')
          : sort === 'status'
            ? deviceStatus(d)
            : d.last_seen_at;
  const sorted = [...devices].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return descending ? sorted.reverse() : sorted;
}

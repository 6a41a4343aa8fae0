import type { DeviceRow } from '../../db/tables.js';
import { compareVersions } from '../../lib/version.js';
import type { DeviceQuery, DeviceStore } from './device-store.js';

/** Candidates read per query while looking for outdated devices. */
const PAGE_SIZE = 500;

/**
 * Devices that do not run their platform's released app version (or do not say which they run), most recently
 * seen first, up to `limit`. The database narrows the candidates, `compareVersions` decides, and pages are read until
 * the limit is reached: filtering one page after its limit would miss outdated devices that were not among the
 * newest (issue 11).
 */
export async function listOutdatedDevices(
  devices: DeviceStore,
  query: DeviceQuery,
  pageSize = PAGE_SIZE,
): Promise<DeviceRow[]> {
  const outdated: DeviceRow[] = [];
  let after = query.after;
  for (;;) {
    const page = await devices.listNotReportingRelease({ ...query, after, limit: pageSize });
    for (const { released_version: released, ...device } of page) {
      if (device.reported_version !== null && compareVersions(device.reported_version, released) === 0) continue;
      outdated.push(device);
      if (outdated.length === query.limit) return outdated;
    }
    const last = page.at(-1);
    if (page.length < pageSize || !last) return outdated;
    after = { lastSeenAt: last.last_seen_at, mac: last.mac };
  }
}

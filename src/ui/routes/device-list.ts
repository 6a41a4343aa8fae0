import { DEVICE_CHIPS } from '../../features/devices/device-listing.js';
import { DEVICE_LIST_SORTS, type DeviceListSort } from '../../features/devices/device-pages.js';
import { DEVICE_STATUSES } from '../../features/fleet/device-status.js';
import type { DeviceListFilter, DevicesPageProps } from '../pages/devices-page.js';
import type { UiServices } from './route-helpers.js';

/** Devices on one page of the list; newer/older links page by key. */
export const DEVICE_PAGE_SIZE = 100;

/**
 * The devices list from its query string: search, sort, the filters status / platform / chip / outdated, and a page
 * cursor. The database filters, sorts and pages (the reader's `devices`, the REST API's query); unknown filter values
 * are dropped (a hand-edited link shows everything), a cursor that is not one of ours is a 400.
 */
export async function deviceList(ui: UiServices, query: Record<string, string | undefined>): Promise<DevicesPageProps> {
  const q = (query.q ?? '').trim().slice(0, 64);
  const sort = DEVICE_LIST_SORTS.find((s) => s === query.sort) ?? 'seen';
  const descending = (query.dir ?? (sort === 'seen' ? 'desc' : 'asc')) === 'desc';
  const platforms = await ui.reader.releasedVersions();
  const filter = parseDeviceFilter(query, new Set(platforms.map((p) => p.name)));
  const list = await ui.reader.devices({
    platform: filter.platform,
    statuses: filter.status ? [filter.status] : undefined,
    outdated: filter.outdated,
    chip: filter.chip,
    search: q || undefined,
    sort,
    descending,
    after: query.before ? undefined : query.after || undefined,
    before: query.before || undefined,
    limit: DEVICE_PAGE_SIZE,
  });
  return {
    devices: list.devices,
    labels: list.labels,
    count: list.count,
    countIsLowerBound: list.countIsLowerBound,
    next: list.next,
    previous: list.previous,
    q,
    sort: sort satisfies DeviceListSort,
    descending,
    now: ui.now(),
    filter,
    platforms,
    chips: [...DEVICE_CHIPS],
  };
}

export function parseDeviceFilter(
  query: Record<string, string | undefined>,
  platforms: ReadonlySet<string>,
): DeviceListFilter {
  return {
    status: DEVICE_STATUSES.find((s) => s === query.status),
    platform: query.platform && platforms.has(query.platform) ? query.platform : undefined,
    chip: DEVICE_CHIPS.find((c) => c === query.chip),
    outdated: query.outdated === '1' || query.outdated === 'on' || query.outdated === 'true',
  };
}

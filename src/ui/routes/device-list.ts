import { DEVICE_SORTS, type DeviceSort } from '../../features/fleet/device-search.js';
import { deviceStatus, type DeviceStatus, type DeviceView } from '../../features/views.js';
import { DEVICE_STATUSES, type DeviceListFilter, type DevicesPageProps } from '../pages/devices-page.js';
import { compareVersions } from '../../lib/version.js';
import type { UiServices } from './route-helpers.js';

/** Searched, filtered and sorted among the newest devices only (the inventory's limit; paging is the reader's). */
const DEVICE_LIST_LIMIT = 2000;

/**
 * The devices list from its query string: search, sort, and the filters status / platform / chip / outdated. It
 * reads through the reader's inventory and filters what that returns; the released version of each platform comes
 * from the dashboard's platform summaries. Unknown filter values are ignored (a hand-edited link shows everything).
 *
 * Wiring (routes/device-routes.tsx, GET /devices):
 *   sendPage(request, reply, <DevicesPage {...await deviceList(ui, queryOf(request))} />)
 */
export async function deviceList(ui: UiServices, query: Record<string, string | undefined>): Promise<DevicesPageProps> {
  const q = (query.q ?? '').trim();
  const sort = (DEVICE_SORTS as readonly string[]).includes(query.sort ?? '') ? (query.sort as DeviceSort) : 'seen';
  const descending = (query.dir ?? (sort === 'seen' ? 'desc' : 'asc')) === 'desc';
  const [{ devices, labels }, { summaries }] = await Promise.all([
    ui.reader.inventory({ text: q, sort, descending, limit: DEVICE_LIST_LIMIT }),
    ui.reader.dashboard(),
  ]);
  const platforms = summaries.map((s) => ({ name: s.platform.name, released: s.released?.version }));
  const filter = parseDeviceFilter(query);
  const released = new Map(platforms.map((p) => [p.name, p.released]));
  const chips = [...new Set(devices.map((d) => d.family).filter((f): f is string => !!f))].sort();
  return {
    devices: devices.filter((d) => matches(d, filter, released)),
    labels,
    q,
    sort,
    descending,
    now: ui.now(),
    filter,
    platforms,
    chips,
  };
}

export function parseDeviceFilter(query: Record<string, string | undefined>): DeviceListFilter {
  const status = DEVICE_STATUSES.find((s) => s === query.status);
  return {
    status,
    platform: query.platform || undefined,
    chip: query.chip || undefined,
    outdated: query.outdated === '1' || query.outdated === 'on' || query.outdated === 'true',
  };
}

function matches(d: DeviceView, filter: DeviceListFilter, released: Map<string, string | undefined>): boolean {
  if (filter.status && deviceStatus(d) !== (filter.status satisfies DeviceStatus)) return false;
  if (filter.platform && d.platform_name !== filter.platform) return false;
  if (filter.chip && d.family !== filter.chip) return false;
  if (filter.outdated) {
    const release = released.get(d.platform_name);
    const runs = d.reported_version !== null && compareVersions(d.reported_version, release ?? '') === 0;
    if (!release || runs) return false;
  }
  return true;
}

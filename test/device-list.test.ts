import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { DeviceListing, type DeviceFilter } from '../src/features/devices/device-listing.js';
import {
  compareVersionTexts,
  devicePage,
  type DeviceListSort,
  type DevicePageRequest,
} from '../src/features/devices/device-pages.js';
import { DEVICE_STATUSES, type DeviceStatus } from '../src/features/fleet/device-status.js';
import { describeEachStore, insertTestPlatform, openTestDatabase } from './helpers/test-app.js';

/**
 * The device list's filters, orders and key paging (issue 13 §2) against a model: a small fleet with ties in every
 * sort key is written into a real database, and for random filters, orders and page sizes, walking the pages
 * forwards and then backwards must give exactly the devices the model picks, in its order, each once.
 */

interface ModelDevice {
  mac: string;
  platformId: number;
  version: string | null;
  status: DeviceStatus;
  chip: 'esp8266' | 'esp32';
  lastSeenAt: number;
  label: string | undefined;
}

const VERSIONS = ['1.0.0', 'v1.0.0', '1.2.0', '1.10.0', '1.10.0-rc.1', '2.0.0-3-gdeadbee', 'abc-label', null];
const LABELS = ['Kitchen lamp', 'porch 50%', 'under_score', "O'Brien", 'kitchen'];
const FLEET_SIZE = 70;

const fleetArbitrary = (platforms: number[]) =>
  fc.uniqueArray(
    fc.record({
      mac: fc.integer({ min: 0, max: 0xffff }).map((n) => `5ccf7f00${n.toString(16).padStart(4, '0')}`),
      platformId: fc.constantFrom(...platforms),
      version: fc.constantFrom(...VERSIONS),
      status: fc.constantFrom(...DEVICE_STATUSES),
      chip: fc.constantFrom('esp8266' as const, 'esp32' as const),
      lastSeenAt: fc.integer({ min: 1_000, max: 1_012 }),
      label: fc.option(fc.constantFrom(...LABELS), { nil: undefined }),
    }),
    { minLength: FLEET_SIZE, maxLength: FLEET_SIZE, selector: (d) => d.mac },
  );

/** The search text split as the reader splits it (fleet-reader.ts `deviceFilter`). */
function searchParts(text: string): Pick<DeviceFilter, 'macPart' | 'labelPart'> {
  const trimmed = text.trim();
  if (!trimmed) return {};
  const hex = trimmed.toLowerCase().replace(/[\s:.-]/g, '');
  return { macPart: /^[0-9a-f]{1,12}$/.test(hex) ? hex : undefined, labelPart: trimmed };
}

function modelMatches(d: ModelDevice, f: DeviceFilter): boolean {
  if (f.platformId !== undefined && d.platformId !== f.platformId) return false;
  if (f.statuses !== undefined && !f.statuses.includes(d.status)) return false;
  if (f.version !== undefined && d.version !== f.version) return false;
  if (f.chip !== undefined && d.chip !== f.chip) return false;
  if (f.seenSince !== undefined && d.lastSeenAt < f.seenSince) return false;
  if (f.macPart !== undefined || f.labelPart !== undefined) {
    const byMac = f.macPart !== undefined && d.mac.includes(f.macPart);
    const byLabel =
      f.labelPart !== undefined && d.label !== undefined && d.label.toLowerCase().includes(f.labelPart.toLowerCase());
    if (!byMac && !byLabel) return false;
  }
  return true;
}

function modelOrder(devices: ModelDevice[], sort: DeviceListSort, descending: boolean): ModelDevice[] {
  const byMac = (a: ModelDevice, b: ModelDevice) => (a.mac < b.mac ? -1 : 1);
  const sign = descending ? -1 : 1;
  if (sort === 'mac') return [...devices].sort((a, b) => sign * byMac(a, b));
  if (sort === 'seen') return [...devices].sort((a, b) => sign * (a.lastSeenAt - b.lastSeenAt || byMac(a, b)));
  const known = devices.filter((d) => d.version !== null);
  const none = devices.filter((d) => d.version === null);
  const bySeen = (a: ModelDevice, b: ModelDevice) => a.lastSeenAt - b.lastSeenAt || byMac(a, b);
  known.sort((a, b) => sign * (compareVersionTexts(a.version!, b.version!) || bySeen(a, b)));
  none.sort((a, b) => sign * bySeen(a, b));
  return [...known, ...none];
}

describeEachStore('device list: filters, orders and key paging against a model', (store) => {
  let db: Database;
  let close: () => Promise<void>;
  let fleet: ModelDevice[];
  let platforms: number[];
  let listing: DeviceListing;

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(store));
    platforms = [await insertTestPlatform(db, 'Lamp'), await insertTestPlatform(db, 'Strip')];
    fleet = fc.sample(fleetArbitrary(platforms), { numRuns: 1, seed: 7 })[0]!;
    await db
      .insertInto('devices')
      .values(
        fleet.map((d) => ({
          mac: d.mac,
          platform_id: d.platformId,
          platform_name: d.platformId === platforms[0] ? 'Lamp' : 'Strip',
          family: d.chip,
          ip: null,
          reported_version: d.version,
          sdk_version: null,
          free_space: null,
          chip_size: null,
          sketch_md5: null,
          first_seen_at: 1,
          last_seen_at: d.lastSeenAt,
          check_count: 1,
          download_count: 0,
          downloaded_image_id: null,
          downloads_of_release: 0,
          last_decision: d.status === 'refused' ? 'refuse' : 'none',
          last_reason: 'current',
          running_image_id: null,
          status: d.status,
          rollout_id: null,
          rollout_state: null,
          rollout_first_served_at: null,
          rollout_served_at: null,
          rollout_outcome_at: null,
          rollout_failure: null,
        })),
      )
      .execute();
    const labelled = fleet.filter((d) => d.label !== undefined);
    await db
      .insertInto('allowlist')
      .values(labelled.map((d) => ({ platform_id: d.platformId, mac: d.mac, label: d.label!, created_at: 1 })))
      .execute();
    listing = new DeviceListing(db);
  });
  afterAll(() => close());

  const searchText = fc.oneof(
    fc.constantFrom('', ' ', '5C:CF:7F', '00-1', 'kitchen', 'KITCHEN', '%', '_', "'", '50%', "o'b", '\\', 'zz'),
    fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)),
  );
  const FILTER_KEYS = ['platformId', 'statuses', 'version', 'chip', 'seenSince', 'search'] as const;
  /** Up to two filters at once, so that most lists are long enough to take several pages. */
  const filterArbitrary = (ids: () => number[]) =>
    fc
      .tuple(
        fc.record({
          platformId: fc.constantFrom(0, 1).map((i) => ids()[i]!),
          statuses: fc.subarray([...DEVICE_STATUSES]),
          version: fc.constantFrom(...VERSIONS, '9.9.9'),
          chip: fc.constantFrom('esp8266', 'esp32'),
          seenSince: fc.integer({ min: 1_000, max: 1_013 }),
          search: searchText,
        }),
        fc.subarray([...FILTER_KEYS], { maxLength: 2 }),
      )
      .map(([all, keys]) => Object.fromEntries(keys.map((k) => [k, all[k]])) as Partial<typeof all>);

  it('walks every page forwards and back, matching the model', async () => {
    const lengths: number[] = [];
    await fc.assert(
      fc.asyncProperty(
        filterArbitrary(() => platforms),
        fc.constantFrom<DeviceListSort>('seen', 'mac', 'version'),
        fc.boolean(),
        fc.integer({ min: 1, max: 9 }),
        async ({ search, ...rest }, sort, descending, limit) => {
          const filter: DeviceFilter = { ...rest, ...(search !== undefined ? searchParts(search) : {}) };
          const expected = modelOrder(
            fleet.filter((d) => modelMatches(d, filter)),
            sort,
            descending,
          ).map((d) => d.mac);
          const request: DevicePageRequest = { sort, descending, limit };
          const forwards: string[] = [];
          let page = await devicePage(listing, filter, request);
          expect(page.previous).toBeNull();
          const pages = [page];
          forwards.push(...page.devices.map((d) => d.mac));
          while (page.next) {
            page = await devicePage(listing, filter, { ...request, after: page.next });
            expect(page.devices.length).toBeGreaterThan(0);
            pages.push(page);
            forwards.push(...page.devices.map((d) => d.mac));
          }
          lengths.push(expected.length);
          expect(forwards).toEqual(expected);
          // Back from the last page by `previous`: the same pages, in reverse.
          for (let i = pages.length - 1; i > 0; i--) {
            const back = await devicePage(listing, filter, { ...request, before: pages[i]!.previous! });
            expect(back.devices.map((d) => d.mac)).toEqual(pages[i - 1]!.devices.map((d) => d.mac));
            expect(back.previous === null).toBe(i - 1 === 0);
          }
          expect(await listing.count(filter, 5)).toBe(Math.min(expected.length, 6));
        },
      ),
      { numRuns: 60, seed: 13 },
    );
    // The property must have walked long lists, not only empty ones.
    expect(lengths.filter((n) => n >= 20).length).toBeGreaterThan(10);
  }, 180_000); // some 2,000 queries: seconds on an idle machine, more on a busy one
});

import { DomainError } from '../../lib/domain-error.js';
import { normalizeMac } from '../../lib/mac.js';
import type { Catalogue, Stores } from '../catalogue.js';
import type { DeviceFilter } from '../devices/device-listing.js';
import { devicePage, type DevicePage, type DevicePageRequest } from '../devices/device-pages.js';
import type { EventQuery } from '../events/event-store.js';
import type { AllowlistEntryView, DeviceView, EventView, ImageView, PlatformView } from '../views.js';
import type { DeviceStatus } from './device-status.js';
import type { FleetSummary } from './fleet-summary.js';
import type { VersionSample } from './version-samples.js';
import { summarizeRollout, type RolloutSummary } from '../rollouts/rollout-overview.js';
import { summarizePlatforms, type PlatformSummary } from './platform-summary.js';

export type { EventQuery };

/** The device list's filters, for the REST API, the CLI and the devices page alike (all optional). */
export interface DeviceQuery extends DevicePageRequest {
  /** A platform's name; an unknown name is an error, not an empty list. */
  platform?: string | undefined;
  statuses?: readonly DeviceStatus[] | undefined;
  /** Only devices running an older version than their platform moves them to: the status `outdated`. */
  outdated?: boolean | undefined;
  /** The exact version text devices report. */
  version?: string | undefined;
  chip?: string | undefined;
  seenSince?: number | undefined;
  /** Part of a MAC (any format) or of an allowlist label. */
  search?: string | undefined;
}

export interface DeviceList extends DevicePage {
  /** How many devices match in all; with `countIsLowerBound`, at least this many (counting stops there). */
  count: number;
  countIsLowerBound: boolean;
  /** Allowlist labels of the devices on this page, by MAC. */
  labels: Map<string, string>;
}

/** Beyond this many matching devices a filtered list says "more than" instead of counting a million rows. */
export const DEVICE_COUNT_CAP = 10_000;

export interface Dashboard {
  summaries: PlatformSummary[];
  events: EventView[];
  attention: DeviceView[];
  /** Running or paused rollouts, by platform id. */
  rollouts: Map<number, RolloutSummary>;
}

export interface PlatformImages {
  platform: PlatformView;
  /** Newest upload first. */
  images: ImageView[];
}

export interface PlatformDetail extends PlatformImages {
  allowlist: AllowlistEntryView[];
  devices: DeviceView[];
  /** Devices per version over time, since the time asked for. */
  versionSamples: VersionSample[];
}

export interface DeviceDetail {
  device: DeviceView;
  label: string | undefined;
  /** Its newest events. */
  events: EventView[];
}

export interface EventPage {
  events: EventView[];
  /** The id to pass as `before` for the next (older) page; null on the last. */
  next: number | null;
}

const LATEST_EVENTS = 15;
const DEVICES_NEEDING_ATTENTION = 10;
const PLATFORM_DEVICES = 200;
const DEVICE_HISTORY = 100;

/**
 * What operators read about the catalogue and the fleet, for the pages and the REST API alike: one place for each
 * query, with its filters and limits as parameters. It reads; changes go through the services.
 */
export class FleetReader {
  /** `counts`: the fleet registry's counts per platform (fleet-summary.ts), kept as devices change. */
  constructor(
    private readonly catalogue: Catalogue,
    private readonly counts: () => FleetSummary,
  ) {}

  private get stores(): Stores {
    return this.catalogue.stores;
  }

  platforms(): Promise<PlatformView[]> {
    return this.stores.platforms.list();
  }

  async dashboard(): Promise<Dashboard> {
    const [platforms, images, events, attention, rollouts] = await Promise.all([
      this.platforms(),
      this.stores.images.listAll(),
      this.latestEvents(),
      this.stores.devices.needingAttention(DEVICES_NEEDING_ATTENTION),
      this.stores.rollouts.allActive(),
    ]);
    return {
      summaries: summarizePlatforms(platforms, images, (id) => this.counts().platform(id)),
      events,
      attention,
      rollouts: new Map(rollouts.map((r) => [r.platform_id, summarizeRollout(r)])),
    };
  }

  /** Each platform's name and released app version (undefined: none released), for the device list. */
  async releasedVersions(): Promise<{ name: string; released: string | undefined }[]> {
    const [platforms, images] = await Promise.all([this.platforms(), this.stores.images.listAll()]);
    const versions = new Map(images.map((i) => [i.id, i.version]));
    return platforms.map((p) => ({
      name: p.name,
      released: p.released_app_id === null ? undefined : versions.get(p.released_app_id),
    }));
  }

  latestEvents(): Promise<EventView[]> {
    return this.stores.events.list({ limit: LATEST_EVENTS });
  }

  async platformImages(name: string): Promise<PlatformImages> {
    const platform = await this.platformNamed(name);
    return { platform, images: await this.stores.images.listForPlatform(platform.id) };
  }

  /** A platform's page: its images, allowlist, most recently seen devices and devices per version since a time. */
  async platform(name: string, versionsSince = 0): Promise<PlatformDetail> {
    const { platform, images } = await this.platformImages(name);
    return {
      platform,
      images,
      allowlist: await this.stores.allowlist.list(platform.id),
      devices: await this.stores.devices.list({ platformId: platform.id, limit: PLATFORM_DEVICES }),
      versionSamples: await this.stores.versionSamples.since(platform.id, versionsSince),
    };
  }

  /**
   * A page of the device list, filtered, sorted and paged by the database (indexes of migration 009), with how many
   * devices match: from the registry's counts when the filter is by platform and status only, else counted by the
   * database up to `DEVICE_COUNT_CAP`; a search is not counted beyond its page.
   */
  async devices(query: DeviceQuery): Promise<DeviceList> {
    const platform = query.platform ? await this.platformNamed(query.platform) : undefined;
    const filter = deviceFilter(query, platform?.id);
    const page = await devicePage(this.stores.deviceListing, filter, query);
    // A search cannot be counted by an index: it says only that there are at least this page's devices (and more
    // when another page follows), rather than reading every MAC to count a few.
    const counted =
      filter.macPart !== undefined || filter.labelPart !== undefined
        ? { count: page.devices.length, countIsLowerBound: page.next !== null }
        : await this.countMatching(filter);
    const labels = await this.stores.allowlist.labelsOf(page.devices.map((d) => d.mac));
    return { ...page, ...counted, labels };
  }

  private async countMatching(filter: DeviceFilter): Promise<{ count: number; countIsLowerBound: boolean }> {
    const { platformId, statuses, ...others } = filter;
    if (Object.values(others).every((v) => v === undefined)) {
      const summary = this.counts();
      const platforms = platformId === undefined ? summary.platformIds() : [platformId];
      let count = 0;
      for (const id of platforms) {
        const counts = summary.platform(id);
        count += statuses ? statuses.reduce((n, s) => n + counts.byStatus[s], 0) : counts.total;
      }
      return { count, countIsLowerBound: false };
    }
    const count = await this.stores.deviceListing.count(filter, DEVICE_COUNT_CAP);
    return { count: Math.min(count, DEVICE_COUNT_CAP), countIsLowerBound: count > DEVICE_COUNT_CAP };
  }

  /** One device (its MAC in any common format) with its label and newest events. */
  async device(macText: string): Promise<DeviceDetail> {
    const mac = normalizeMac(macText);
    const device = mac ? await this.stores.devices.findByMac(mac) : undefined;
    if (!mac || !device) throw new DomainError('unknown-device', 'this device has never checked in');
    const label = (await this.stores.allowlist.labelsOf([mac])).get(mac);
    return { device, label, events: await this.stores.events.list({ mac, limit: DEVICE_HISTORY }) };
  }

  /** Events, newest first, a page at a time. */
  async events(query: EventQuery): Promise<EventPage> {
    const events = await this.stores.events.list(query);
    return { events, next: events.length === query.limit ? events[events.length - 1]!.id : null };
  }

  private async platformNamed(name: string): Promise<PlatformView> {
    const platform = await this.stores.platforms.findByName(name);
    if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
    return platform;
  }
}

/** The query's filters as the listing reads them: `outdated` narrows the statuses, the search text splits in two. */
function deviceFilter(query: DeviceQuery, platformId: number | undefined): DeviceFilter {
  let statuses = query.statuses;
  if (query.outdated) statuses = (statuses ?? ['outdated']).filter((s) => s === 'outdated');
  const search = query.search?.trim() || undefined;
  const macPart = search?.toLowerCase().replace(/[\s:.-]/g, '');
  return {
    platformId,
    statuses,
    version: query.version,
    chip: query.chip,
    seenSince: query.seenSince,
    macPart: macPart && /^[0-9a-f]{1,12}$/.test(macPart) ? macPart : undefined,
    labelPart: search,
  };
}

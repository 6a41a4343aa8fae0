import { DomainError } from '../../lib/domain-error.js';
import { normalizeMac } from '../../lib/mac.js';
import type { Catalogue, Stores } from '../catalogue.js';
import { listOutdatedDevices } from '../devices/outdated-devices.js';
import type { EventQuery } from '../events/event-store.js';
import type { AllowlistEntryView, DeviceView, EventView, ImageView, PlatformView } from '../views.js';
import { matchingDevices, sortDevices, type DeviceSort } from './device-search.js';
import type { VersionSample } from './version-samples.js';
import { summarizeRollout, type RolloutSummary } from '../rollouts/rollout-overview.js';
import { summarizePlatforms, type PlatformSummary } from './platform-summary.js';

export type { EventQuery };

/** The REST inventory's filters. */
export interface DeviceQuery {
  /** A platform's name; an unknown name is an error, not an empty list. */
  platform?: string | undefined;
  seenSince?: number | undefined;
  /** Only devices of a platform with a released app that do not report running it. */
  outdated?: boolean | undefined;
  limit: number;
}

/** The devices page: the newest `limit` devices, searched and sorted (in memory, for now). */
export interface InventoryQuery {
  text: string;
  sort: DeviceSort;
  descending: boolean;
  limit: number;
}

export interface Inventory {
  devices: DeviceView[];
  /** Allowlist labels by MAC. */
  labels: Map<string, string>;
}

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
  constructor(private readonly catalogue: Catalogue) {}

  private get stores(): Stores {
    return this.catalogue.stores;
  }

  platforms(): Promise<PlatformView[]> {
    return this.stores.platforms.list();
  }

  async dashboard(): Promise<Dashboard> {
    const [platforms, images, counts, events, attention, rollouts] = await Promise.all([
      this.platforms(),
      this.stores.images.listAll(),
      this.stores.devices.statusCounts(),
      this.latestEvents(),
      this.stores.devices.needingAttention(DEVICES_NEEDING_ATTENTION),
      this.stores.rollouts.allActive(),
    ]);
    return {
      summaries: summarizePlatforms(platforms, images, counts),
      events,
      attention,
      rollouts: new Map(rollouts.map((r) => [r.platform_id, summarizeRollout(r)])),
    };
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

  async devices(query: DeviceQuery): Promise<DeviceView[]> {
    const { stores } = this;
    const platform = query.platform ? await this.platformNamed(query.platform) : undefined;
    const storeQuery = { platformId: platform?.id, seenSince: query.seenSince, limit: query.limit };
    return query.outdated ? listOutdatedDevices(stores.devices, storeQuery) : stores.devices.list(storeQuery);
  }

  async inventory(query: InventoryQuery): Promise<Inventory> {
    const labels = await this.labels();
    const devices = matchingDevices(await this.stores.devices.list({ limit: query.limit }), query.text, labels);
    return { devices: sortDevices(devices, query.sort, query.descending), labels };
  }

  /** One device (its MAC in any common format) with its label and newest events. */
  async device(macText: string): Promise<DeviceDetail> {
    const mac = normalizeMac(macText);
    const device = mac ? await this.stores.devices.findByMac(mac) : undefined;
    if (!mac || !device) throw new DomainError('unknown-device', 'this device has never checked in');
    const label = (await this.stores.allowlist.listAll()).find((a) => a.mac === mac && a.label)?.label ?? undefined;
    return { device, label, events: await this.stores.events.list({ mac, limit: DEVICE_HISTORY }) };
  }

  /** Events, newest first, a page at a time. */
  async events(query: EventQuery): Promise<EventPage> {
    const events = await this.stores.events.list(query);
    return { events, next: events.length === query.limit ? events[events.length - 1]!.id : null };
  }

  private async labels(): Promise<Map<string, string>> {
    return new Map((await this.stores.allowlist.listAll()).filter((a) => a.label).map((a) => [a.mac, a.label!]));
  }

  private async platformNamed(name: string): Promise<PlatformView> {
    const platform = await this.stores.platforms.findByName(name);
    if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
    return platform;
  }
}

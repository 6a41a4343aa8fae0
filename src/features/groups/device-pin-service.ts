import type { Catalogue, Stores } from '../catalogue.js';
import type { PlatformRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import { changeEvent } from '../platforms/platform-service.js';
import { devicePinKey, isDevicePin, parseMac } from './group-input.js';
import { appImage } from './group-service.js';

/** A device's pin as people see it: its own (`group` null) or one of its groups'. */
export interface DevicePin {
  mac: string;
  platform: string;
  version: string;
  group: string | null;
}

/** One of a device's groups. */
export interface DeviceGroupMembership {
  platform: string;
  name: string;
  excluded: boolean;
  pinnedVersion: string | null;
}

/**
 * Pins of single devices ("pin this board to 1.2.0", "unpin / back to automatic"). A device's own pin is an implicit
 * group of the platform named `@` + its MAC, with that one member: the device check, the image-delete guard, the
 * fleet's statuses and the rollout's counts then treat it exactly like a pinned group, with no table of its own.
 * Where a device's own pin and its groups' pins disagree, its own wins (it is the oldest-first rule's exception,
 * see `steering.ts`).
 */
export class DevicePinService {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly onChange: () => void,
    /** The platform a device last checked in with, as the fleet in memory knows it (its row may not be written yet). */
    private readonly lastPlatformOf: (mac: string) => string | undefined = () => undefined,
  ) {}

  /** The platform the device last checked in with: the fleet's memory first, else its stored row. */
  private async lastPlatform(mac: string): Promise<string | undefined> {
    return this.lastPlatformOf(mac) ?? (await this.catalogue.stores.devices.findByMac(mac))?.platform_name;
  }

  /** Pins a device to a version of its platform: the one named, else the one it last checked in with. */
  async pin(macInput: string, version: string, actor: string, platformName?: string): Promise<DevicePin> {
    const mac = parseMac(macInput);
    const name = platformName ?? (await this.lastPlatform(mac));
    if (!name) {
      throw new DomainError('unknown-device', `${macInput} has never checked in: name the platform to pin it on`);
    }
    const now = this.clock.now();
    const pinned = await this.catalogue.transact(async (stores) => {
      const platform = await lockPlatform(stores, name);
      const image = await appImage(stores, platform, version);
      const existing = await stores.groups.findByName(platform.id, devicePinKey(mac));
      const before = existing?.pinned_image_id ? await stores.images.findById(existing.pinned_image_id) : undefined;
      if (existing) {
        await stores.groups.update(existing.id, { pinned_image_id: image.id });
      } else {
        const group = await stores.groups.insert({
          platform_id: platform.id,
          name: devicePinKey(mac),
          name_key: devicePinKey(mac),
          excluded: 0,
          pinned_image_id: image.id,
          created_at: now,
        });
        await stores.groups.addMembers(group.id, [mac]);
      }
      await stores.events.append([
        {
          ...changeEvent(now, 'device-pinned', platform.name, actor),
          mac,
          from_version: before?.version ?? null,
          to_version: image.version,
        },
      ]);
      return { mac, platform: platform.name, version: image.version, group: null };
    });
    this.onChange();
    return pinned;
  }

  /** Back to automatic: removes the device's own pins (on the named platform, else on every platform). */
  async unpin(macInput: string, actor: string, platformName?: string): Promise<void> {
    const mac = parseMac(macInput);
    const now = this.clock.now();
    await this.catalogue.transact(async (stores) => {
      const own = (await stores.groups.ofMac(mac)).filter(
        (g) =>
          g.name_key === devicePinKey(mac) &&
          (!platformName || g.platform_name.toLowerCase() === platformName.trim().toLowerCase()),
      );
      if (own.length === 0) throw new DomainError('unknown-device', `${macInput} has no pin of its own`);
      for (const group of own) {
        await lockPlatform(stores, group.platform_name);
        await stores.groups.delete(group.id);
      }
      await stores.events.append(
        own.map((g) => ({
          ...changeEvent(now, 'device-unpinned', g.platform_name, actor),
          mac,
          from_version: g.pinned_version,
        })),
      );
    });
    this.onChange();
  }

  /** The device's pins (its own first) and the groups it is in, on every platform. */
  async of(macInput: string): Promise<{ pins: DevicePin[]; groups: DeviceGroupMembership[] }> {
    const mac = parseMac(macInput);
    const rows = await this.catalogue.stores.groups.ofMac(mac);
    const pins: DevicePin[] = [];
    const groups: DeviceGroupMembership[] = [];
    for (const row of rows) {
      const own = isDevicePin(row.name_key);
      if (row.pinned_version !== null) {
        const pin = { mac, platform: row.platform_name, version: row.pinned_version, group: own ? null : row.name };
        if (own) pins.unshift(pin);
        else pins.push(pin);
      }
      if (!own) {
        groups.push({
          platform: row.platform_name,
          name: row.name,
          excluded: row.excluded === 1,
          pinnedVersion: row.pinned_version,
        });
      }
    }
    return { pins, groups };
  }
}

async function lockPlatform(stores: Stores, name: string): Promise<PlatformRow> {
  const platform = await stores.platforms.lockByName(name);
  if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
  return platform;
}

import type { Catalogue } from '../catalogue.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import { formatMac } from '../../lib/mac.js';
import { parseMac } from '../groups/group-input.js';
import { changeEvent } from '../platforms/platform-service.js';
import { newDeviceKey } from './device-key.js';

/** A device's key as people see it. */
export interface DeviceKey {
  platform: string;
  /** `AA:BB:CC:DD:EE:FF`. */
  mac: string;
  key: string;
  createdAt: number;
  createdBy: string;
}

/**
 * Per-device manifest keys (migration 010): people mint one for a device so that a client whose requests name no
 * device (ESPHome) is still answered for that device. Minting again replaces the key (the old URL stops working);
 * revoking removes it. Each change is an event with its actor, and reloads the device check's view.
 */
export class DeviceKeyService {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly onChange: () => void,
  ) {}

  async mint(platformName: string, macInput: string, actor: string): Promise<DeviceKey> {
    const mac = parseMac(macInput);
    const now = this.clock.now();
    const key = newDeviceKey();
    const minted = await this.catalogue.transact(async (stores) => {
      const platform = await stores.platforms.lockByName(platformName);
      if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${platformName}"`);
      const before = await stores.deviceKeys.find(platform.id, mac);
      await stores.deviceKeys.replace({ key, platform_id: platform.id, mac, created_at: now, created_by: actor });
      await stores.events.append([
        {
          ...changeEvent(
            now,
            'device-key-minted',
            platform.name,
            actor,
            before ? 'replaces the device’s previous key' : undefined,
          ),
          mac,
        },
      ]);
      return { platform: platform.name, mac: formatMac(mac), key, createdAt: now, createdBy: actor };
    });
    this.onChange();
    return minted;
  }

  async revoke(platformName: string, macInput: string, actor: string): Promise<void> {
    const mac = parseMac(macInput);
    const now = this.clock.now();
    await this.catalogue.transact(async (stores) => {
      const platform = await stores.platforms.lockByName(platformName);
      if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${platformName}"`);
      if (!(await stores.deviceKeys.remove(platform.id, mac))) {
        throw new DomainError('unknown-device-key', `${formatMac(mac)} has no device key on "${platform.name}"`);
      }
      await stores.events.append([{ ...changeEvent(now, 'device-key-revoked', platform.name, actor), mac }]);
    });
    this.onChange();
  }

  async list(platformName: string): Promise<DeviceKey[]> {
    const platform = await this.catalogue.stores.platforms.findByName(platformName);
    if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${platformName}"`);
    const rows = await this.catalogue.stores.deviceKeys.list(platform.id);
    return rows.map((r) => ({
      platform: platform.name,
      mac: formatMac(r.mac),
      key: r.key,
      createdAt: Number(r.created_at),
      createdBy: r.created_by,
    }));
  }
}

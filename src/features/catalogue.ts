import type { Database } from '../db/database.js';
import { CHANNELS, notify } from '../db/notifications.js';
import { transact, transactUnflushed } from '../db/transactions.js';
import { AllowlistStore } from './allowlist/allowlist-store.js';
import { DeviceStore } from './devices/device-store.js';
import { DeviceWrites } from './devices/device-writes.js';
import { EventStore } from './events/event-store.js';
import { VersionSamples } from './fleet/version-samples.js';
import { ImageStore } from './firmware/image-store.js';
import { GroupStore } from './groups/group-store.js';
import { InstallAssetStore } from './install/install-asset-store.js';
import { PlatformStore } from './platforms/platform-store.js';
import { CanaryGroups, RolloutStore } from './rollouts/rollout-store.js';

export interface Stores {
  platforms: PlatformStore;
  allowlist: AllowlistStore;
  images: ImageStore;
  devices: DeviceStore;
  /** Device activity as the fleet registry writes it (changes and heartbeats). */
  deviceWrites: DeviceWrites;
  events: EventStore;
  /** Devices per version over time (the platform page's chart). */
  versionSamples: VersionSamples;
  rollouts: RolloutStore;
  canaryGroups: CanaryGroups;
  groups: GroupStore;
  /** Releases' full-flash files for browser installs. */
  installAssets: InstallAssetStore;
}

/** The stores over one database, and a way to run work on all of them in one transaction. */
export interface Catalogue {
  stores: Stores;
  transact<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
  /** The same without waiting for the disk at commit: for device activity only (see `db/transactions.ts`). */
  transactUnflushed<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
}

function storesOver(db: Database): Stores {
  return {
    platforms: new PlatformStore(db),
    allowlist: new AllowlistStore(db),
    images: new ImageStore(db),
    devices: new DeviceStore(db),
    deviceWrites: new DeviceWrites(db),
    events: new EventStore(db),
    versionSamples: new VersionSamples(db),
    rollouts: new RolloutStore(db),
    canaryGroups: new CanaryGroups(db),
    groups: new GroupStore(db),
    installAssets: new InstallAssetStore(db),
  };
}

export function createCatalogue(db: Database): Catalogue {
  return {
    stores: storesOver(db),
    // Every catalogue write tells the other instances on PostgreSQL, on its own transaction: delivered on commit only.
    transact: (work) =>
      transact(db, async (trx) => {
        const result = await work(storesOver(trx));
        await notify(trx, CHANNELS.catalogue, '*');
        return result;
      }),
    transactUnflushed: (work) => transactUnflushed(db, (trx) => work(storesOver(trx))),
  };
}

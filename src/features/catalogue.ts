import type { Database } from '../db/database.js';
import type { NewEvent } from '../db/tables.js';
import { CHANNELS, notify } from '../db/notifications.js';
import { transact, transactUnflushed } from '../db/transactions.js';
import { AllowlistStore } from './allowlist/allowlist-store.js';
import { DeviceKeyStore } from './device-keys/device-key-store.js';
import { DeviceListing } from './devices/device-listing.js';
import { DeviceStore } from './devices/device-store.js';
import { DeviceWrites } from './devices/device-writes.js';
import { EventStore } from './events/event-store.js';
import { VersionSamples } from './fleet/version-samples.js';
import { ImageStore } from './firmware/image-store.js';
import { GroupStore } from './groups/group-store.js';
import { InstallAssetStore } from './install/install-asset-store.js';
import { PlatformStore } from './platforms/platform-store.js';
import { PlatformKeyStore } from './signing/platform-key-store.js';
import { CanaryGroups, RolloutStore } from './rollouts/rollout-store.js';
import { WebhookStore } from './webhooks/webhook-store.js';

export interface Stores {
  platforms: PlatformStore;
  /** The public keys each platform's boards trust (issue 17). */
  platformKeys: PlatformKeyStore;
  allowlist: AllowlistStore;
  images: ImageStore;
  devices: DeviceStore;
  /** The device list's filtered, keyset-paged reads. */
  deviceListing: DeviceListing;
  /** Device activity as the fleet registry writes it (changes and heartbeats). */
  deviceWrites: DeviceWrites;
  events: EventStore;
  /** Devices per version over time (the platform page's chart). */
  versionSamples: VersionSamples;
  rollouts: RolloutStore;
  canaryGroups: CanaryGroups;
  groups: GroupStore;
  /** Per-device manifest keys (ESPHome). */
  deviceKeys: DeviceKeyStore;
  /** Webhook endpoints and their delivery log. */
  webhooks: WebhookStore;
  /** Releases' full-flash files for browser installs. */
  installAssets: InstallAssetStore;
}

/** The stores over one database, and a way to run work on all of them in one transaction. */
export interface Catalogue {
  stores: Stores;
  transact<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
  /** The same without waiting for the disk at commit: for device activity only (see `db/transactions.ts`). */
  transactUnflushed<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
  /** Called with the events a transaction appended, once it committed (never for one that rolled back). */
  onEventsCommitted(listener: (events: readonly NewEvent[]) => void): void;
}

function storesOver(db: Database, appended?: NewEvent[]): Stores {
  return {
    platforms: new PlatformStore(db),
    platformKeys: new PlatformKeyStore(db),
    allowlist: new AllowlistStore(db),
    images: new ImageStore(db),
    devices: new DeviceStore(db),
    deviceListing: new DeviceListing(db),
    deviceWrites: new DeviceWrites(db),
    events: new EventStore(db, appended),
    versionSamples: new VersionSamples(db),
    rollouts: new RolloutStore(db),
    canaryGroups: new CanaryGroups(db),
    groups: new GroupStore(db),
    deviceKeys: new DeviceKeyStore(db),
    webhooks: new WebhookStore(db),
    installAssets: new InstallAssetStore(db),
  };
}

export function createCatalogue(db: Database): Catalogue {
  const listeners: ((events: readonly NewEvent[]) => void)[] = [];
  // Each attempt of a transaction collects its own events: only the one that committed is told.
  const committed = <T>(outcome: { result: T; appended: NewEvent[] }): T => {
    if (outcome.appended.length === 0) return outcome.result;
    for (const listener of listeners) {
      try {
        listener(outcome.appended);
      } catch {
        // Listeners only queue work for others (domain-events.ts); a committed write has succeeded whatever they do.
      }
    }
    return outcome.result;
  };
  return {
    stores: storesOver(db),
    // Every catalogue write tells the other instances on PostgreSQL, on its own transaction: delivered on commit only.
    transact: async (work) =>
      committed(
        await transact(db, async (trx) => {
          const appended: NewEvent[] = [];
          const result = await work(storesOver(trx, appended));
          await notify(trx, CHANNELS.catalogue, '*');
          return { result, appended };
        }),
      ),
    transactUnflushed: async (work) =>
      committed(
        await transactUnflushed(db, async (trx) => {
          const appended: NewEvent[] = [];
          return { result: await work(storesOver(trx, appended)), appended };
        }),
      ),
    onEventsCommitted: (listener) => listeners.push(listener),
  };
}

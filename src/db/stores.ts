import type { Database } from './database.js';
import { AllowlistStore } from '../features/allowlist/allowlist-store.js';
import { DeviceStore } from '../features/devices/device-store.js';
import { EventStore } from '../features/events/event-store.js';
import { ImageStore } from '../features/firmware/image-store.js';
import { PlatformStore } from '../features/platforms/platform-store.js';

export interface Stores {
  platforms: PlatformStore;
  allowlist: AllowlistStore;
  images: ImageStore;
  devices: DeviceStore;
  events: EventStore;
}

/** The stores over one database, and a way to run work on all of them in one transaction. */
export interface Catalogue {
  stores: Stores;
  transact<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
}

function storesOver(db: Database): Stores {
  return {
    platforms: new PlatformStore(db),
    allowlist: new AllowlistStore(db),
    images: new ImageStore(db),
    devices: new DeviceStore(db),
    events: new EventStore(db),
  };
}

export function createCatalogue(db: Database): Catalogue {
  return {
    stores: storesOver(db),
    transact: (work) => db.transaction().execute((trx) => work(storesOver(trx))),
  };
}

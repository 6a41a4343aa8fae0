import type { Catalogue } from '../../db/stores.js';
import type { NewEvent } from '../../db/tables.js';
import type { DeviceSighting } from '../devices/device-store.js';

export interface ActivityRecorderOptions {
  flushIntervalMs: number;
  /** Flush early when this many events are waiting. */
  maxBatch: number;
}

interface Logger {
  error(object: unknown, message: string): void;
}

/**
 * Device sightings and check events, queued on the hot path and written in one transaction per batch: at most
 * `flushIntervalMs` of them can be lost in a crash, never catalogue data.
 */
export class ActivityRecorder {
  private sightings = new Map<string, DeviceSighting>();
  private events: NewEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly catalogue: Catalogue,
    private readonly options: ActivityRecorderOptions,
    private readonly log: Logger,
  ) {}

  get queued(): number {
    return this.events.length;
  }

  record(sighting: DeviceSighting | undefined, event: NewEvent): void {
    if (sighting) {
      const earlier = this.sightings.get(sighting.mac);
      this.sightings.set(
        sighting.mac,
        earlier
          ? { ...sighting, checks: earlier.checks + sighting.checks, downloads: earlier.downloads + sighting.downloads }
          : sighting,
      );
    }
    this.events.push(event);
    if (this.events.length >= this.options.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs).unref();
  }

  /** Writes what is queued; concurrent calls run one after another. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.events.length === 0 && this.sightings.size === 0) return;
    const sightings = [...this.sightings.values()];
    const events = this.events;
    this.sightings = new Map();
    this.events = [];
    try {
      await this.catalogue.transact(async (stores) => {
        await stores.devices.record(sightings);
        await stores.events.append(events);
      });
    } catch (error) {
      // Activity is not catalogue data: log and go on rather than take device checks down with the database.
      this.log.error({ err: error, events: events.length }, 'could not write device activity');
    }
  }
}

import { isDatabaseUnavailable } from '../../db/database-errors.js';
import type { Catalogue } from '../catalogue.js';
import type { RecordedDevice } from '../devices/device-store.js';

/**
 * Checks written per transaction at most. A batch is written synchronously on SQLite, so its size is how long
 * device answers wait behind it: 10,000 held the event loop ~50 ms (p99 latency 52 ms under load), 1,000 ~5 ms
 * (p99 10 ms), at the same cost per check (bench/activity-writes.bench.ts: 5.4 vs 5.1 µs).
 */
export const ACTIVITY_BATCH = 1_000;

/** Tries at writing one batch while the database is out of reach, before its checks are given up. */
const WRITE_ATTEMPTS = 3;

export interface ActivityRecorderOptions {
  flushIntervalMs: number;
  /** Flush early when this many events are waiting. */
  maxBatch: number;
}

interface Logger {
  error(object: unknown, message: string): void;
}

/** What became of checks whose batch failed to be written: tried again (the database was out of reach), or lost. */
export type ActivityFailure = 'retried' | 'dropped';

/**
 * One device check as the event log and the inventory need it. Its property names are the event columns, so the
 * same object is the event row: one allocation per check, which matters on the hot path.
 */
export interface CheckActivity {
  at: number;
  type: 'check' | 'download';
  platform_name: string;
  mac: string | null;
  from_version: string | null;
  to_version: string | null;
  decision: string;
  reason: string;
  detail: string;
  /** The HTTP status the device was answered with. */
  status: number;
  /**
   * Whether the request may write the device's inventory row: false for refusals before the platform knew who was
   * asking (`speaksForDevice`), which are logged as events only.
   */
  speaks_for_device: boolean;
  /** The image a download was of (null for checks). */
  downloaded_image_id: number | null;
  /** Device facts for the inventory (only when the check names a MAC). */
  platform_id: number | null;
  family: string | null;
  ip: string | null;
  sdk_version: string | null;
  free_space: number | null;
  chip_size: number | null;
  sketch_md5: string | null;
}

interface Batch {
  devices: RecordedDevice[];
  events: CheckActivity[];
}

/**
 * Device sightings and check events, queued on the hot path and written in one transaction per batch: at most
 * `flushIntervalMs` of them can be lost in a crash, never catalogue data. Checks of the same device within one
 * batch fold into one inventory row (newest facts, counters added up); every check keeps its own event.
 */
export class ActivityRecorder {
  private devices = new Map<string, RecordedDevice>();
  private events: CheckActivity[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly catalogue: Catalogue,
    private readonly options: ActivityRecorderOptions,
    private readonly log: Logger,
    private readonly failed: (outcome: ActivityFailure, checks: number) => void = () => undefined,
  ) {}

  get queued(): number {
    return this.events.length;
  }

  record(check: CheckActivity): void {
    if (check.mac && check.speaks_for_device) this.foldIntoDevice(check.mac, check);
    this.events.push(check);
    if (this.events.length >= this.options.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs).unref();
  }

  private foldIntoDevice(mac: string, check: CheckActivity): void {
    const downloads = check.type === 'download' ? 1 : 0;
    const device = this.devices.get(mac);
    if (!device) {
      this.devices.set(mac, {
        mac,
        platform_id: check.platform_id,
        platform_name: check.platform_name,
        family: check.family,
        ip: check.ip,
        reported_version: check.from_version,
        sdk_version: check.sdk_version,
        free_space: check.free_space,
        chip_size: check.chip_size,
        sketch_md5: check.sketch_md5,
        // The store keeps the first first_seen_at of a known device; this one counts for new devices only.
        first_seen_at: check.at,
        last_seen_at: check.at,
        check_count: 1,
        download_count: downloads,
        downloaded_image_id: check.downloaded_image_id,
        downloads_of_release: downloads,
        last_decision: check.decision,
        last_reason: check.reason,
      });
      return;
    }
    // Updated in place: a device that polls in a tight loop costs no allocation per check.
    device.platform_id = check.platform_id;
    device.platform_name = check.platform_name;
    device.family = check.family;
    device.ip = check.ip;
    device.reported_version = check.from_version;
    device.sdk_version = check.sdk_version;
    device.free_space = check.free_space;
    device.chip_size = check.chip_size;
    device.sketch_md5 = check.sketch_md5;
    device.last_seen_at = check.at;
    device.check_count += 1;
    device.download_count += downloads;
    if (downloads) {
      // Downloads of the same image add up; a download of another image starts the count again. The store merges
      // this batch's count into the stored one by the same rule. (Should a batch see image A, then B, then A again,
      // its count for A would be added to a stored count for A: the release would have to change twice within one
      // flush interval, with a download in between, for that to happen.)
      if (device.downloaded_image_id === check.downloaded_image_id) device.downloads_of_release += 1;
      else {
        device.downloaded_image_id = check.downloaded_image_id;
        device.downloads_of_release = 1;
      }
    }
    device.last_decision = check.decision;
    device.last_reason = check.reason;
  }

  /** Writes what is queued; concurrent calls run one after another. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.events.length === 0 && this.devices.size === 0) return;
    const batch = { devices: [...this.devices.values()], events: this.events };
    this.devices = new Map();
    this.events = [];
    // Activity is not catalogue data: a batch that cannot be written is logged and the server goes on rather than
    // take device checks down with the database. A lost connection (failover, a restart, a terminated backend) is
    // tried again on a new one, a flush interval apart (the pool may still hold connections that died with it and
    // only notices as they fail); newer checks wait in the queue, so the inventory keeps its order. What still fails
    // is lost, and counted.
    for (let attempt = 1; ; attempt++) {
      const failure = await this.writeBatch(batch);
      if (!failure) return;
      if (attempt === WRITE_ATTEMPTS || !isDatabaseUnavailable(failure.error)) {
        this.failed('dropped', batch.events.length);
        this.log.error({ err: failure.error, events: batch.events.length }, 'could not write device activity');
        return;
      }
      if (attempt === 1) this.failed('retried', batch.events.length);
      await new Promise((resolve) => setTimeout(resolve, this.options.flushIntervalMs));
    }
  }

  /** One transaction for the batch; resolves to its error when it failed. */
  private writeBatch({ devices, events }: Batch): Promise<{ error: unknown } | undefined> {
    return this.catalogue
      .transactUnflushed(async (stores) => {
        await stores.devices.record(devices);
        await stores.events.append(events);
      })
      .then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
  }
}

import { isDatabaseUnavailable } from '../../db/database-errors.js';
import type { NewEvent } from '../../db/tables.js';
import type { Catalogue } from '../catalogue.js';
import type { DeviceChangeRow, DeviceSightingRow, DeviceStateRow } from '../devices/device-writes.js';
import type { DeviceEntry } from './device-entry.js';

/**
 * Rows written per transaction at most. SQLite writes block the event loop, so this bounds how long device answers
 * wait behind a write (about 5 ms for 1,000 rows; bench/activity-writes.bench.ts).
 */
export const WRITE_CHUNK = 1_000;

/** Tries at writing one chunk while the database is out of reach, before it is given up. */
const WRITE_ATTEMPTS = 3;

export interface ActivityWriterOptions {
  /** Changes and events are written at least this often: what a crash may lose of them. */
  changeFlushMs: number;
  /** Heartbeats (last seen, check counts) are written at least this often, in MAC order. */
  sightingFlushMs: number;
}

/** The facts a device reported with a change, written with its row (the registry keeps only their hash). */
export interface DeviceFacts {
  family: string | null;
  ip: string | null;
  sdkVersion: string | null;
  freeSpace: number | null;
  chipSize: number | null;
  sketchMd5: string | null;
}

/** What became of rows that failed to be written: tried again (the database was out of reach), or lost. */
export type ActivityFailure = 'retried' | 'dropped';

interface Logger {
  error(object: unknown, message: string): void;
}

interface PendingChange {
  entry: DeviceEntry;
  /** What the device last reported, when a check changed it; undefined for a change of state alone. */
  facts: DeviceFacts | undefined;
  firstSeenAt: number;
}

/**
 * Writes device activity as the registry records it: changes (a device's row with its new state, and the events)
 * within `changeFlushMs`, heartbeats within `sightingFlushMs`, each in chunks that keep the event loop free. A check
 * that changes nothing costs no write of its own: its device's time and counter are written with the next heartbeat
 * flush, with every other device heard meanwhile, in MAC order (docs/architecture.md "The fleet in memory").
 */
export class ActivityWriter {
  private changes = new Map<string, PendingChange>();
  private events: NewEvent[] = [];
  private heard: DeviceEntry[] = [];
  private changeTimer: NodeJS.Timeout | undefined;
  private readonly sightingTimer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  /** Called after changed devices were written (another instance may want to reload them). */
  onChangesWritten: (macs: string[]) => void = () => undefined;
  /** Called as a device changes (before it is written): what others are told (`Fleet.publish`). */
  onDeviceChanged: (mac: string) => void = () => undefined;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly options: ActivityWriterOptions,
    private readonly log: Logger,
    private readonly failed: (outcome: ActivityFailure, rows: number) => void = () => undefined,
  ) {
    this.sightingTimer = setInterval(() => void this.flushSightings(), options.sightingFlushMs);
    this.sightingTimer.unref();
  }

  /** Events and device rows waiting to be written. */
  get queued(): number {
    return this.events.length + this.changes.size;
  }

  /**
   * The device changed: its row is written with the next change flush, with these facts (none when the change was
   * not reported by the device: a new status after a release, an outcome found by a sweep).
   */
  changed(entry: DeviceEntry, facts: DeviceFacts | undefined, firstSeenAt?: number): void {
    this.onDeviceChanged(entry.mac);
    const pending = this.changes.get(entry.mac);
    if (pending) {
      pending.facts = facts ?? pending.facts;
      if (firstSeenAt !== undefined) pending.firstSeenAt = Math.min(pending.firstSeenAt, firstSeenAt);
    } else {
      this.changes.set(entry.mac, { entry, facts, firstSeenAt: firstSeenAt ?? entry.lastSeenAt });
    }
    this.scheduleChanges();
  }

  /** The device was heard (its pending counter went up); written with the next heartbeat flush. */
  sighted(entry: DeviceEntry): void {
    if (entry.heardQueued) return;
    entry.heardQueued = true;
    this.heard.push(entry);
  }

  event(event: NewEvent): void {
    this.events.push(event);
    this.scheduleChanges();
  }

  /** Writes changes and events now (then heartbeats too when `everything`); calls run one after another. */
  flush(everything = true): Promise<void> {
    this.writing = this.writing.then(async () => {
      await this.writeChanges();
      if (everything) await this.writeSightings();
    });
    return this.writing;
  }

  flushSightings(): Promise<void> {
    this.writing = this.writing.then(() => this.writeSightings());
    return this.writing;
  }

  /** Stops the heartbeat timer and writes everything (graceful shutdown). */
  async close(): Promise<void> {
    clearInterval(this.sightingTimer);
    await this.flush(true);
  }

  private scheduleChanges(): void {
    if (this.events.length + this.changes.size >= WRITE_CHUNK) void this.flush(false);
    else this.changeTimer ??= setTimeout(() => void this.flush(false), this.options.changeFlushMs).unref();
  }

  private async writeChanges(): Promise<void> {
    clearTimeout(this.changeTimer);
    this.changeTimer = undefined;
    while (this.changes.size > 0 || this.events.length > 0) {
      const rows: DeviceChangeRow[] = [];
      const states: DeviceStateRow[] = [];
      const pendingRows: PendingChange[] = [];
      for (const [mac, change] of this.changes) {
        if (pendingRows.length === WRITE_CHUNK) break;
        this.changes.delete(mac);
        pendingRows.push(change);
        if (change.facts) rows.push(changeRow(change, change.facts));
        else states.push(stateRow(change));
      }
      const events = this.events.splice(0, WRITE_CHUNK - pendingRows.length);
      const written = await this.write(pendingRows.length + events.length, async (stores) => {
        if (rows.length) await stores.deviceWrites.changes(rows);
        if (states.length) await stores.deviceWrites.states(states);
        if (events.length) await stores.events.append(events);
      });
      if (written) {
        if (pendingRows.length) this.onChangesWritten(pendingRows.map((p) => p.entry.mac));
        continue;
      }
      // The devices' state stays in memory and is written with the next change; the events are lost.
      this.failed('dropped', events.length);
      const counted = new Map([...rows, ...states].map((row) => [row.mac, row]));
      for (const change of pendingRows) this.requeueChange(change, counted.get(change.entry.mac)!);
      return;
    }
  }

  private requeueChange(change: PendingChange, row: DeviceStateRow): void {
    change.entry.pendingChecks += row.check_count;
    change.entry.pendingDownloads += row.download_count;
    if (!this.changes.has(change.entry.mac)) this.changes.set(change.entry.mac, change);
  }

  private async writeSightings(): Promise<void> {
    const heard = this.heard;
    this.heard = [];
    // MAC order: neighbouring rows share pages, so a page is written once per flush however many it holds.
    heard.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
    for (let start = 0; start < heard.length; start += WRITE_CHUNK) {
      const chunk = heard.slice(start, start + WRITE_CHUNK);
      for (const entry of chunk) entry.heardQueued = false;
      // Written by a change meanwhile: nothing left to write.
      const entries = chunk.filter((entry) => entry.pendingChecks > 0);
      const rows = entries.map(sightingRow);
      if (rows.length && !(await this.write(rows.length, (stores) => stores.deviceWrites.sightings(rows)))) {
        // Counted again into the devices and written with the next heartbeat flush: nothing is lost but time.
        entries.forEach((entry, i) => (entry.pendingChecks += rows[i]!.check_count));
        for (const entry of [...entries, ...heard.slice(start + WRITE_CHUNK)]) {
          entry.heardQueued = false;
          this.sighted(entry);
        }
        return;
      }
      // Let device checks run between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * One transaction; a lost connection is tried again a flush interval later (the pool may still hold connections
   * that died with it), newer activity waiting meanwhile. What still fails is logged and false is returned: device
   * rows then stay queued (their state is in memory), events are counted as dropped. Activity is not catalogue data,
   * and the server goes on answering devices.
   */
  private async write(count: number, work: Parameters<Catalogue['transactUnflushed']>[0]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const error = await this.catalogue.transactUnflushed(work).then(
        () => undefined,
        (failure: unknown) => failure ?? new Error('write failed'),
      );
      if (!error) return true;
      if (attempt === WRITE_ATTEMPTS || !isDatabaseUnavailable(error)) {
        this.log.error({ err: error, rows: count }, 'could not write device activity; it stays queued');
        return false;
      }
      if (attempt === 1) this.failed('retried', count);
      await new Promise((resolve) => setTimeout(resolve, this.options.changeFlushMs));
    }
  }
}

/** The device's whole row; its counters are what was counted since the last write, which this resets. */
function changeRow(change: PendingChange, facts: DeviceFacts): DeviceChangeRow {
  return {
    ...stateRow(change),
    family: facts.family,
    ip: facts.ip,
    sdk_version: facts.sdkVersion,
    free_space: facts.freeSpace,
    chip_size: facts.chipSize,
    sketch_md5: facts.sketchMd5,
  };
}

/** The device's state without the facts it reports; its counters are what was counted since the last write. */
function stateRow({ entry, firstSeenAt }: PendingChange): DeviceStateRow {
  const rollout = entry.rollout;
  const row: DeviceStateRow = {
    mac: entry.mac,
    platform_id: entry.platformId,
    platform_name: entry.platformName,
    reported_version: entry.runningVersion,
    running_image_id: entry.runningImageId,
    status: entry.status,
    last_decision: entry.lastDecision,
    last_reason: entry.lastReason,
    downloaded_image_id: entry.downloadedImageId,
    downloads_of_release: entry.downloadsOfRelease,
    rollout_id: rollout?.rolloutId ?? null,
    rollout_state: rollout?.state ?? null,
    rollout_attempts: rollout?.attempts ?? 0,
    rollout_first_served_at: rollout?.firstServedAt ?? null,
    rollout_served_at: rollout?.lastServedAt ?? null,
    rollout_checks_since_served: rollout?.checksSinceServed ?? 0,
    rollout_outcome_at: rollout?.outcomeAt ?? null,
    rollout_failure: rollout?.failure ?? null,
    changed_at: entry.changedAt,
    first_seen_at: firstSeenAt,
    last_seen_at: entry.lastSeenAt,
    check_count: entry.pendingChecks,
    download_count: entry.pendingDownloads,
  };
  entry.pendingChecks = 0;
  entry.pendingDownloads = 0;
  return row;
}

function sightingRow(entry: DeviceEntry): DeviceSightingRow {
  const row: DeviceSightingRow = {
    mac: entry.mac,
    platform_id: entry.platformId,
    platform_name: entry.platformName,
    reported_version: entry.runningVersion,
    running_image_id: entry.runningImageId,
    status: entry.status,
    last_decision: entry.lastDecision,
    last_reason: entry.lastReason,
    changed_at: entry.changedAt,
    first_seen_at: entry.lastSeenAt,
    last_seen_at: entry.lastSeenAt,
    check_count: entry.pendingChecks,
    download_count: 0,
    downloads_of_release: entry.downloadsOfRelease,
  };
  entry.pendingChecks = 0;
  return row;
}

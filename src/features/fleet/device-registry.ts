import type { DeviceEntry } from './device-entry.js';
import { FleetSummary } from './fleet-summary.js';
import { SeenWindows } from './seen-windows.js';

/** The rollout states a device is found by (updated devices are only counted). */
type TrackedState = 'offered' | 'failed' | 'silent';

/**
 * Every known device, in memory (docs/architecture.md "The fleet in memory"): a device check reads and updates its
 * entry without touching the database, and the counts people and Prometheus read are kept as entries change.
 * Entries change only through this class, so the counts always match the entries.
 */
export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceEntry>();
  readonly summary = new FleetSummary();
  readonly seen = new SeenWindows();
  /**
   * By rollout, the devices it served and has no outcome for yet (what the silence sweep looks at) and those that
   * failed or went silent (what the platform page lists): kept as sets, so neither needs a pass over the fleet.
   */
  private readonly tracked = new Map<number, Record<TrackedState, Set<DeviceEntry>>>();

  get size(): number {
    return this.devices.size;
  }

  get(mac: string): DeviceEntry | undefined {
    return this.devices.get(mac);
  }

  /** A device seen for the first time (or loaded from the database). */
  insert(entry: DeviceEntry): void {
    const previous = this.devices.get(entry.mac);
    if (previous) this.forget(previous);
    this.devices.set(entry.mac, entry);
    this.summary.add(entry);
    this.seen.seen(undefined, entry.lastSeenAt);
    this.track(entry);
  }

  /** Changes what an entry counts under (platform, status, version, rollout state) and keeps the counts right. */
  change(entry: DeviceEntry, apply: (entry: DeviceEntry) => void): void {
    this.summary.remove(entry);
    this.untrack(entry);
    apply(entry);
    this.summary.add(entry);
    this.track(entry);
  }

  /** The device was heard from at `at`: only its time and the seen-within windows change. */
  heard(entry: DeviceEntry, at: number): void {
    if (at <= entry.lastSeenAt) return;
    this.seen.seen(entry.lastSeenAt, at);
    entry.lastSeenAt = at;
  }

  remove(mac: string): void {
    const entry = this.devices.get(mac);
    if (!entry) return;
    this.devices.delete(mac);
    this.forget(entry);
  }

  /** Devices served by a rollout and not judged yet. */
  awaitingOutcome(rolloutId: number): ReadonlySet<DeviceEntry> {
    return this.tracked.get(rolloutId)?.offered ?? new Set();
  }

  /** Devices a rollout served that failed or went silent. */
  *failing(rolloutId: number): IterableIterator<DeviceEntry> {
    const sets = this.tracked.get(rolloutId);
    if (!sets) return;
    yield* sets.failed;
    yield* sets.silent;
  }

  /** Every entry; iteration tolerates changes made meanwhile (a Map iterator does), so it may span event-loop turns. */
  entries(): IterableIterator<DeviceEntry> {
    return this.devices.values();
  }

  private forget(entry: DeviceEntry): void {
    this.summary.remove(entry);
    this.seen.removed(entry.lastSeenAt);
    this.untrack(entry);
  }

  private track(entry: DeviceEntry): void {
    const state = entry.rollout?.state;
    if (!state || state === 'updated') return;
    let sets = this.tracked.get(entry.rollout!.rolloutId);
    if (!sets)
      this.tracked.set(entry.rollout!.rolloutId, (sets = { offered: new Set(), failed: new Set(), silent: new Set() }));
    sets[state].add(entry);
  }

  private untrack(entry: DeviceEntry): void {
    const state = entry.rollout?.state;
    if (!state || state === 'updated') return;
    const sets = this.tracked.get(entry.rollout!.rolloutId);
    if (!sets) return;
    sets[state].delete(entry);
    if (sets.offered.size + sets.failed.size + sets.silent.size === 0) this.tracked.delete(entry.rollout!.rolloutId);
  }
}

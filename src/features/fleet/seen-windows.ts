/**
 * How many devices were seen within the last hour or day, without looking at every device: each device counts in
 * the bucket of the minute it was last seen, and a device seen again moves from its old bucket to the current one.
 * A scrape then adds up at most 1,440 numbers instead of scanning a million rows (which blocked device checks).
 */
export class SeenWindows {
  static readonly MINUTES = 24 * 60;
  private readonly buckets = new Int32Array(SeenWindows.MINUTES);
  /** The newest minute any bucket holds; buckets older than MINUTES before it have been cleared. */
  private head = -Infinity;

  /** A device seen at `seenMs`, previously seen at `previousMs` (undefined for a new device). */
  seen(previousMs: number | undefined, seenMs: number): void {
    const minute = Math.floor(seenMs / 60_000);
    if (previousMs !== undefined) {
      const old = Math.floor(previousMs / 60_000);
      if (old === minute) return;
      this.forget(old);
    }
    this.advanceTo(minute);
    if (this.holds(minute)) this.buckets[minute % SeenWindows.MINUTES]!++;
  }

  /** A device that is no longer counted (pruned), last seen at `seenMs`. */
  removed(seenMs: number): void {
    this.forget(Math.floor(seenMs / 60_000));
  }

  /** Devices last seen within `windowMs` before `nowMs` (to the minute). */
  countSince(nowMs: number, windowMs: number): number {
    const now = Math.floor(nowMs / 60_000);
    this.advanceTo(now);
    const from = now - Math.min(Math.ceil(windowMs / 60_000), SeenWindows.MINUTES) + 1;
    let count = 0;
    for (let minute = from; minute <= now; minute++)
      if (this.holds(minute)) count += this.buckets[minute % SeenWindows.MINUTES]!;
    return count;
  }

  private holds(minute: number): boolean {
    return minute <= this.head && minute > this.head - SeenWindows.MINUTES;
  }

  private forget(minute: number): void {
    if (this.holds(minute)) this.buckets[minute % SeenWindows.MINUTES]!--;
  }

  /** Moves the newest minute forward, clearing the buckets that now stand for minutes a day ahead. */
  private advanceTo(minute: number): void {
    if (minute <= this.head) return;
    const start = Math.max(this.head + 1, minute - SeenWindows.MINUTES + 1);
    for (let m = start; m <= minute; m++) this.buckets[m % SeenWindows.MINUTES] = 0;
    this.head = minute;
  }
}

/**
 * Failed-login counting per IP and per account: after `maxFailures` attempts within `windowMs`, that key is locked
 * until the window since its first attempt has passed. An attempt is counted when it starts, before its password is
 * hashed: counted only on failure, attempts sent at once all passed the check while the first ones were still
 * hashing. A successful login forgives its keys. In memory: a restart forgives, which is acceptable for a small
 * server.
 */
export class LoginLimiter {
  private readonly attempts = new Map<string, { count: number; since: number }>();
  /** Size of the map after the last sweep of expired entries; the next sweep runs when it has doubled. */
  private sweptAt = 0;

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /**
   * Counts an attempt for every key and returns 0, or, when one of the keys is locked, counts nothing and returns
   * the milliseconds until the last of the locked keys unlocks.
   */
  attempt(keys: string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const entry = this.attempts.get(key);
      if (!entry) continue;
      if (now - entry.since >= this.windowMs) this.attempts.delete(key);
      else if (entry.count >= this.maxFailures) wait = Math.max(wait, entry.since + this.windowMs - now);
    }
    if (wait > 0) return wait;
    for (const key of keys) {
      const entry = this.attempts.get(key);
      if (entry) entry.count++;
      else this.attempts.set(key, { count: 1, since: now });
    }
    if (this.attempts.size >= Math.max(1000, 2 * this.sweptAt)) this.sweep(now);
    return 0;
  }

  /** Keys being counted (for tests). */
  get size(): number {
    return this.attempts.size;
  }

  /**
   * Expired entries are otherwise removed only when their key comes back; names and addresses that never do (a
   * guessing run) would pile up. Sweeping when the map has doubled keeps the cost per attempt constant.
   */
  private sweep(now: number): void {
    for (const [key, entry] of this.attempts) if (now - entry.since >= this.windowMs) this.attempts.delete(key);
    this.sweptAt = this.attempts.size;
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.attempts.delete(key);
  }
}

/**
 * Failed-login counting per IP and per account: after `maxFailures` within `windowMs`, that key is locked until the
 * window since its first failure has passed. In memory: a restart forgives, which is acceptable for a small server.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds until the first of these keys unlocks, or 0 when none is locked. */
  lockedFor(keys: string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const entry = this.failures.get(key);
      if (!entry) continue;
      if (now - entry.since >= this.windowMs) this.failures.delete(key);
      else if (entry.count >= this.maxFailures) wait = Math.max(wait, entry.since + this.windowMs - now);
    }
    return wait;
  }

  fail(keys: string[], now: number): void {
    for (const key of keys) {
      const entry = this.failures.get(key);
      if (!entry || now - entry.since >= this.windowMs) this.failures.set(key, { count: 1, since: now });
      else entry.count++;
    }
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }
}

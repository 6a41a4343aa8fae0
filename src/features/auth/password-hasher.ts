import argon2 from 'argon2';
import { ConcurrencyLimit, ConcurrencyLimitFull } from '../../lib/concurrency-limit.js';
import { DomainError } from '../../lib/domain-error.js';

/**
 * argon2 runs on libuv's thread pool, which file I/O shares (4 threads unless UV_THREADPOOL_SIZE says otherwise).
 * A burst of logins hashing on every thread made an upload wait for all of them (8.9 s instead of 0.16 s), so at
 * most half the pool hashes at once.
 */
const THREAD_POOL = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const MAX_HASHES = Math.max(1, Math.floor(THREAD_POOL / 2));
/** Logins beyond this many waiting for a hash are refused with 503 at once (each hash takes a good part of a second). */
const MAX_WAITING = 64;

/** Password hashing (argon2id) with a bound on how many hashes run at once. */
export class PasswordHasher {
  private readonly limit = new ConcurrencyLimit(MAX_HASHES, MAX_WAITING);
  readonly maxInFlight = MAX_HASHES;

  /** The most hashes that ever ran at once (never more than `maxInFlight`). */
  get peakInFlight(): number {
    return this.limit.peakInFlight;
  }

  hash(password: string): Promise<string> {
    return this.bounded(() => argon2.hash(password, { type: argon2.argon2id }));
  }

  /** False for a wrong password and for a hash argon2 cannot read. */
  verify(hash: string, password: string): Promise<boolean> {
    return this.bounded(() => argon2.verify(hash, password).catch(() => false));
  }

  private async bounded<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.limit.run(work);
    } catch (error) {
      if (!(error instanceof ConcurrencyLimitFull)) throw error;
      throw new DomainError('server-busy', 'the server is checking too many passwords at once; try again shortly');
    }
  }
}

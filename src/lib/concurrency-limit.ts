/** Thrown by `ConcurrencyLimit.run` when as many callers are already waiting as the limit allows. */
export class ConcurrencyLimitFull extends Error {
  constructor() {
    super('too many callers are waiting');
    this.name = 'ConcurrencyLimitFull';
  }
}

/**
 * Runs at most `max` pieces of work at once; up to `maxWaiting` more wait their turn in arrival order, and any beyond
 * that are refused at once (so a flood is answered quickly instead of piling up).
 */
export class ConcurrencyLimit {
  private running = 0;
  private peak = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly max: number,
    readonly maxWaiting: number,
  ) {}

  /** The most that ever ran at once. */
  get peakInFlight(): number {
    return this.peak;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.max) this.running++;
    else if (this.waiting.length >= this.maxWaiting) throw new ConcurrencyLimitFull();
    // A finished piece of work hands its slot straight to the next in line, so `running` stays as it is.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.peak = Math.max(this.peak, this.running);
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

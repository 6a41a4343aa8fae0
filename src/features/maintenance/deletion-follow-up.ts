import type { Clock } from '../../lib/clock.js';

/** Past the grace period, so that a file committed just before a deletion is old enough to go. */
const MARGIN_MS = 1000;

/**
 * Runs the orphan collector (and SQLite's page reclaim) soon after something was deleted, instead of at the next
 * maintenance, which may be an hour away: once the grace period of the latest deletion has passed, since the
 * collector keeps every file younger than that. One timer at a time; a deletion while it waits is covered by a
 * second run once its own grace period has passed.
 */
export class DeletionFollowUp {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private latest = 0;
  private stopped = false;

  constructor(
    private readonly graceMs: number,
    private readonly clock: Clock,
    private readonly run: () => Promise<void>,
    private readonly log: { error(object: unknown, message: string): void },
  ) {}

  /** Something that may leave unreferenced files or free pages was just deleted. */
  deleted(): void {
    this.latest = this.clock.now();
    if (!this.timer && !this.running && !this.stopped) this.arm();
  }

  private arm(): void {
    const covers = this.latest;
    const delay = Math.max(0, covers + this.graceMs + MARGIN_MS - this.clock.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.run()
        .catch((err: unknown) => this.log.error({ err }, 'collecting after a deletion failed'))
        .finally(() => {
          this.running = undefined;
          if (this.latest > covers && !this.stopped) this.arm();
        });
    }, delay);
    // A pending collection never keeps the process alive; the next start collects anyway.
    this.timer.unref();
  }

  /** No further runs; resolves once a run in progress has finished (before the database closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

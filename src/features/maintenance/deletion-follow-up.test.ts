import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeletionFollowUp } from './deletion-follow-up.js';

describe('DeletionFollowUp', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  const setUp = () => {
    const runs: number[] = [];
    const followUp = new DeletionFollowUp(1000, { now: () => Date.now() }, async () => void runs.push(Date.now()), {
      error: () => undefined,
    });
    return { runs, followUp };
  };

  it('issue 11 (storage): runs once the grace period of the latest deletion has passed, and then rests', async () => {
    const { runs, followUp } = setUp();
    followUp.deleted();
    await vi.advanceTimersByTimeAsync(500);
    followUp.deleted(); // while the first run is pending: it needs a run of its own, 1000 ms after it
    followUp.deleted();
    await vi.advanceTimersByTimeAsync(1600);
    expect(runs).toEqual([2000]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toEqual([2000, 2500]);
  });

  it('issue 11 (storage): runs no more once stopped', async () => {
    const { runs, followUp } = setUp();
    followUp.deleted();
    await followUp.stop();
    followUp.deleted();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { observeCheck, recordAttempt, recordReport, sweepTracking, type RolloutTracking } from './device-outcome.js';
import { DEFAULT_ROLLOUT_POLICY } from './rollout-policy.js';

const MIN = 60_000;
const limits = {
  ...DEFAULT_ROLLOUT_POLICY,
  maxAttempts: 3,
  failAfterChecks: 3,
  failAfterMs: 60 * MIN,
  silentAfterMs: 120 * MIN,
};
const served = (at: number, rolloutId = 1) => recordAttempt(undefined, rolloutId, at).tracking!;

describe('inferring an outcome from the next checks', () => {
  it('knows nothing of a device it never served', () => {
    expect(observeCheck(undefined, 1, false, 0, limits)).toEqual({ tracking: undefined, transition: undefined });
    expect(observeCheck(undefined, 1, true, 0, limits)).toEqual({ tracking: undefined, transition: undefined });
  });

  it('a device that reports the new image after the download updated, with the time it took', () => {
    const { tracking, transition } = observeCheck(served(1_000), 1, true, 1_000 + 5 * MIN, limits);
    expect(tracking?.state).toBe('updated');
    expect(transition).toEqual({ from: 'offered', to: 'updated', tookMs: 5 * MIN });
    // Later checks on the new image change nothing.
    expect(observeCheck(tracking, 1, true, 2_000 + 60 * MIN, limits).transition).toBeUndefined();
  });

  it('downloading again and again fails after maxAttempts, with the count', () => {
    let t: RolloutTracking | undefined = served(0);
    let now = 0;
    for (let attempt = 2; attempt <= 3; attempt++) {
      now += MIN;
      const seen = observeCheck(t, 1, false, now, limits);
      expect(seen.tracking?.state).toBe('offered');
      t = recordAttempt(seen.tracking, 1, now).tracking;
      expect(t?.attempts).toBe(attempt);
    }
    const last = observeCheck(t, 1, false, now + MIN, limits);
    expect(last.tracking).toMatchObject({ state: 'failed', attempts: 3, failure: 'attempts' });
    expect(last.transition).toMatchObject({ from: 'offered', to: 'failed', failure: 'attempts' });
  });

  it('still reporting the old image after N checks without downloads fails (e.g. outside the window)', () => {
    let t: RolloutTracking | undefined = served(0);
    for (let check = 1; check < 3; check++) t = observeCheck(t, 1, false, check * MIN, limits).tracking;
    expect(t?.state).toBe('offered');
    expect(observeCheck(t, 1, false, 3 * MIN, limits).tracking).toMatchObject({ state: 'failed', failure: 'checks' });
  });

  it('still reporting the old image an hour after the first download fails by time', () => {
    const t = served(0);
    expect(observeCheck(t, 1, false, 61 * MIN, limits).tracking).toMatchObject({ state: 'failed', failure: 'time' });
  });

  it('a device that stops asking after the download goes silent, and is judged again when it returns', () => {
    const t = served(0);
    expect(sweepTracking(t, 119 * MIN, limits).transition).toBeUndefined();
    const silent = sweepTracking(t, 120 * MIN, limits);
    expect(silent.tracking?.state).toBe('silent');
    expect(silent.transition).toEqual({ from: 'offered', to: 'silent' });
    expect(observeCheck(silent.tracking, 1, true, 200 * MIN, limits).transition).toMatchObject({ to: 'updated' });
  });

  it('the sweep fails by time a device that reported the old image and then went quiet', () => {
    const t = observeCheck(served(0), 1, false, MIN, limits).tracking!;
    expect(sweepTracking(t, 61 * MIN, limits).tracking).toMatchObject({ state: 'failed', failure: 'time' });
  });

  it('an updated device that comes back on another image failed (it reverted)', () => {
    const updated = observeCheck(served(0), 1, true, MIN, limits).tracking;
    expect(observeCheck(updated, 1, false, 2 * MIN, limits).tracking).toMatchObject({
      state: 'failed',
      failure: 'reverted',
    });
  });

  it('a new rollout starts over', () => {
    const failed = observeCheck(served(0), 1, false, 61 * MIN, limits).tracking;
    expect(observeCheck(failed, 2, false, 62 * MIN, limits).tracking).toBeUndefined();
    expect(recordAttempt(failed, 2, 62 * MIN).tracking).toMatchObject({ rolloutId: 2, attempts: 1, state: 'offered' });
  });

  it('an explicit report outranks inference', () => {
    const failed = recordReport(served(0), 1, 'failure', 'boot loop', MIN);
    expect(failed.tracking).toMatchObject({ state: 'failed', failure: 'reported: boot loop' });
    const fixed = recordReport(failed.tracking, 1, 'success', undefined, 2 * MIN);
    expect(fixed.transition).toMatchObject({ from: 'failed', to: 'updated' });
  });
});

import { describe, expect, it } from 'vitest';
import { evaluateRollout, type RolloutCounts, type RolloutProgress } from './rollout-health.js';
import { DEFAULT_ROLLOUT_POLICY } from './rollout-policy.js';

const HOUR = 3_600_000;
const running: RolloutProgress = { state: 'running', stageIndex: 1, stageCount: 4, stageStartedAt: 0 };
const counts = (c: Partial<RolloutCounts>): RolloutCounts => ({
  admitted: 100,
  offered: 0,
  updated: 0,
  failed: 0,
  silent: 0,
  ...c,
});
const auto = { ...DEFAULT_ROLLOUT_POLICY, autoAdvance: true };

describe('rollout health', () => {
  it.each([
    // [counts, expected action]
    [counts({ updated: 20, failed: 2 }), 'none'], // 2 < failureMin
    [counts({ updated: 20, failed: 2, silent: 1 }), 'pause'], // 3 of 23 > 5 %
    [counts({ updated: 200, failed: 3, admitted: 300 }), 'none'], // 3 of 203 < 5 %
    [counts({ updated: 20, failed: 5 }), 'pause'],
  ])('pauses by the abort criteria: %j → %s', (c, action) => {
    expect(evaluateRollout(running, c, DEFAULT_ROLLOUT_POLICY, 0).action).toBe(action);
  });

  it('says why it paused', () => {
    const verdict = evaluateRollout(running, counts({ updated: 20, failed: 5 }), DEFAULT_ROLLOUT_POLICY, 0);
    expect(verdict.why).toContain('5 of 25');
  });

  it('advances by itself only when asked to, after the soak time, with enough devices updated', () => {
    const healthy = counts({ updated: 19, offered: 1 });
    expect(evaluateRollout(running, healthy, DEFAULT_ROLLOUT_POLICY, 2 * HOUR).action).toBe('none');
    expect(evaluateRollout(running, healthy, auto, HOUR - 1).action).toBe('none');
    expect(evaluateRollout(running, healthy, auto, HOUR).action).toBe('advance');
    expect(evaluateRollout(running, counts({ updated: 18, offered: 2 }), auto, HOUR).action).toBe('none');
    expect(evaluateRollout(running, counts({ updated: 3 }), auto, HOUR).action).toBe('none'); // 3 < minDevices 5
  });

  it('judges a stage that admits fewer devices than minDevices by all of them', () => {
    expect(evaluateRollout(running, counts({ admitted: 2, updated: 2 }), auto, HOUR).action).toBe('advance');
    expect(evaluateRollout(running, counts({ admitted: 0 }), auto, HOUR).action).toBe('none');
  });

  it('completes after the last stage', () => {
    const last = { ...running, stageIndex: 3 };
    expect(evaluateRollout(last, counts({ updated: 100 }), auto, HOUR).action).toBe('complete');
  });

  it('does nothing unless running', () => {
    for (const state of ['paused', 'completed', 'aborted'] as const) {
      expect(evaluateRollout({ ...running, state }, counts({ failed: 50 }), auto, HOUR).action).toBe('none');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain-error.js';
import { DEFAULT_ROLLOUT_POLICY, planRollout } from './rollout-policy.js';

describe('rollout plan', () => {
  it('fills in the defaults', () => {
    expect(planRollout()).toEqual({
      stages: [1, 10, 50, 100],
      canary: { groups: [], macs: [] },
      policy: DEFAULT_ROLLOUT_POLICY,
    });
  });

  it('takes stages, canary and settings, over a template', () => {
    const template = planRollout({ stages: [5, 100], policy: { autoAdvance: true, soakMs: 600_000 } });
    const plan = planRollout({ canary: { groups: ['lab', 'lab'] }, policy: { failureMin: 2 } }, template);
    expect(plan.stages).toEqual([5, 100]);
    expect(plan.canary).toEqual({ groups: ['lab'], macs: [] });
    expect(plan.policy).toMatchObject({ autoAdvance: true, soakMs: 600_000, failureMin: 2, maxAttempts: 3 });
  });

  it.each([
    [{ stages: [] }, /1 to 20/],
    [{ stages: [10, 5, 100] }, /increase/],
    [{ stages: [1, 10, 50] }, /last stage must be 100/],
    [{ stages: [0, 100] }, /above 0/],
    [{ stages: [Number.NaN, 100] }, /above 0/],
    [{ policy: { successRatio: 1.5 } }, /successRatio/],
    [{ policy: { maxAttempts: 2.5 } }, /whole number/],
    [{ policy: { autoAdvance: 'yes' as unknown as boolean } }, /true or false/],
    [{ policy: { surprise: 1 } as never }, /unknown rollout setting/],
  ])('refuses %j with a sentence', (input, message) => {
    expect(() => planRollout(input)).toThrow(DomainError);
    expect(() => planRollout(input)).toThrow(message);
  });
});

import type { RolloutPolicy } from './rollout-policy.js';

/** Devices of one rollout by what is known of them (from the device registry's counts). */
export interface RolloutCounts {
  /** Devices the current stage admits (canary and percentage), excluded and pinned devices left out. */
  admitted: number;
  /** Served the image, no outcome yet. */
  offered: number;
  updated: number;
  failed: number;
  silent: number;
}

export interface RolloutProgress {
  state: 'running' | 'paused' | 'completed' | 'aborted';
  /** Index into the stages (the canary, when there is one, is stage 0 and has no percentage). */
  stageIndex: number;
  stageCount: number;
  stageStartedAt: number;
}

export type HealthVerdict =
  | { action: 'none'; why: string }
  | { action: 'pause'; why: string }
  | { action: 'advance'; why: string }
  | { action: 'complete'; why: string };

export function attempted(counts: RolloutCounts): number {
  return counts.offered + counts.updated + counts.failed + counts.silent;
}

/**
 * The rollout's own judgement, made after every outcome and every few seconds: pause when too many boards failed
 * or went silent (like AWS IoT Jobs' abort criteria), advance when a stage has soaked and enough boards updated
 * (like hawkBit's success condition; only with `autoAdvance`), complete when the last stage is healthy.
 */
export function evaluateRollout(
  progress: RolloutProgress,
  counts: RolloutCounts,
  policy: RolloutPolicy,
  now: number,
): HealthVerdict {
  if (progress.state !== 'running') return { action: 'none', why: `the rollout is ${progress.state}` };
  const tried = attempted(counts);
  const bad = counts.failed + counts.silent;
  if (bad >= policy.failureMin && bad > policy.failureRatio * tried) {
    return {
      action: 'pause',
      why:
        `${bad} of ${tried} devices that were sent the image failed or went silent ` +
        `(${counts.failed} failed, ${counts.silent} silent; the limit is ${formatShare(policy.failureRatio)}, at least ${policy.failureMin})`,
    };
  }
  if (!policy.autoAdvance) return { action: 'none', why: 'stages advance by hand' };
  const soaked = now - progress.stageStartedAt;
  if (soaked < policy.soakMs)
    return { action: 'none', why: `the stage soaks for ${Math.ceil((policy.soakMs - soaked) / 60_000)} more min` };
  const needed = Math.min(policy.minDevices, counts.admitted);
  if (needed === 0) return { action: 'none', why: 'no device is in this stage yet' };
  if (tried < needed)
    return { action: 'none', why: `${tried} of the ${needed} devices needed have been sent the image` };
  const share = tried === 0 ? 0 : counts.updated / tried;
  if (share < policy.successRatio)
    return {
      action: 'none',
      why: `${counts.updated} of ${tried} updated (${formatShare(share)}; ${formatShare(policy.successRatio)} needed)`,
    };
  const last = progress.stageIndex >= progress.stageCount - 1;
  const why = `${counts.updated} of ${tried} updated (${formatShare(share)}) after the soak time`;
  return last ? { action: 'complete', why } : { action: 'advance', why };
}

function formatShare(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10} %`;
}

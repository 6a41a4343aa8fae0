import type { RolloutPolicy } from './rollout-policy.js';

/**
 * What a rollout knows about one device it served. Stock clients never report back, so the outcome is inferred from
 * what the device says at its next checks: it reports the new image (updated), it keeps reporting the old one
 * (failed), or it stops asking (silent).
 */
export type OutcomeState = 'offered' | 'updated' | 'failed' | 'silent';

export type FailureRule = 'attempts' | 'checks' | 'time' | 'reported';

export interface RolloutTracking {
  rolloutId: number;
  state: OutcomeState;
  /** Downloads of the rollout's image (GET 200, or a range from byte 0). */
  attempts: number;
  firstServedAt: number;
  lastServedAt: number;
  /** Checks since the last download that still reported another image. */
  checksSinceServed: number;
  /** When the state last changed to updated, failed or silent. */
  outcomeAt: number | null;
  /** Why it failed (rule, or the reason a device reported). */
  failure: string | null;
}

/** A change worth an event, the log and the rollout's health. */
export interface OutcomeTransition {
  from: OutcomeState;
  to: OutcomeState;
  /** updated: milliseconds from the first download to the first check on the new image. */
  tookMs?: number;
  failure?: string;
}

export interface Tracked {
  tracking: RolloutTracking | undefined;
  transition: OutcomeTransition | undefined;
}

type Limits = Pick<RolloutPolicy, 'maxAttempts' | 'failAfterChecks' | 'failAfterMs' | 'silentAfterMs'>;

function moveTo(
  tracking: RolloutTracking,
  to: OutcomeState,
  now: number,
  extra: Partial<OutcomeTransition> = {},
): Tracked {
  const from = tracking.state;
  const next: RolloutTracking = { ...tracking, state: to, outcomeAt: now, failure: extra.failure ?? null };
  return { tracking: next, transition: { from, to, ...extra } };
}

/** Which rule, if any, says a device that still runs the old image has failed. */
function failureRule(tracking: RolloutTracking, now: number, limits: Limits): FailureRule | undefined {
  if (tracking.attempts >= limits.maxAttempts && tracking.checksSinceServed > 0) return 'attempts';
  if (tracking.checksSinceServed >= limits.failAfterChecks) return 'checks';
  if (tracking.checksSinceServed > 0 && now - tracking.firstServedAt >= limits.failAfterMs) return 'time';
  return undefined;
}

/**
 * A check of a device, before the decision: what it runs tells whether an earlier download worked. Tracking of
 * another rollout is forgotten (a new rollout starts over). Returns the tracking the decision should see.
 */
export function observeCheck(
  previous: RolloutTracking | undefined,
  rolloutId: number,
  runsTarget: boolean,
  now: number,
  limits: Limits,
): Tracked {
  if (!previous || previous.rolloutId !== rolloutId) return { tracking: undefined, transition: undefined };
  if (runsTarget) {
    if (previous.state === 'updated') return { tracking: previous, transition: undefined };
    return moveTo(previous, 'updated', now, { tookMs: now - previous.firstServedAt });
  }
  if (previous.state === 'updated' || previous.state === 'failed') {
    // Updated and now back on another image: it rolled back by itself (or was flashed by hand). Failed stays failed.
    if (previous.state === 'failed') return { tracking: previous, transition: undefined };
    return moveTo({ ...previous, checksSinceServed: 1 }, 'failed', now, { failure: 'reverted' });
  }
  const counted = { ...previous, checksSinceServed: previous.checksSinceServed + 1 };
  const rule = failureRule(counted, now, limits);
  if (rule) return moveTo(counted, 'failed', now, { failure: rule });
  if (previous.state === 'silent') {
    // Back after being silent, still on the old image: offered again, and judged by the same rules.
    return {
      tracking: { ...counted, state: 'offered', outcomeAt: now },
      transition: { from: 'silent', to: 'offered' },
    };
  }
  return { tracking: counted, transition: undefined };
}

/** The device was sent the rollout's image (one attempt). */
export function recordAttempt(previous: RolloutTracking | undefined, rolloutId: number, now: number): Tracked {
  if (!previous || previous.rolloutId !== rolloutId) {
    return {
      tracking: {
        rolloutId,
        state: 'offered',
        attempts: 1,
        firstServedAt: now,
        lastServedAt: now,
        checksSinceServed: 0,
        outcomeAt: null,
        failure: null,
      },
      transition: undefined,
    };
  }
  return {
    tracking: { ...previous, attempts: previous.attempts + 1, lastServedAt: now, checksSinceServed: 0 },
    transition: undefined,
  };
}

/**
 * The periodic sweep, for devices that stopped asking: silent when nothing was heard since the last download for
 * `silentAfterMs`; failed by time when it did report the old image and then went quiet.
 */
export function sweepTracking(tracking: RolloutTracking, now: number, limits: Limits): Tracked {
  if (tracking.state !== 'offered') return { tracking, transition: undefined };
  const rule = failureRule(tracking, now, limits);
  if (rule) return moveTo(tracking, 'failed', now, { failure: rule });
  if (tracking.checksSinceServed === 0 && now - tracking.lastServedAt >= limits.silentAfterMs)
    return moveTo(tracking, 'silent', now);
  return { tracking, transition: undefined };
}

/** An explicit report from a client that can send one: it outranks what was inferred. */
export function recordReport(
  previous: RolloutTracking | undefined,
  rolloutId: number,
  outcome: 'success' | 'failure',
  reason: string | undefined,
  now: number,
): Tracked {
  const base =
    previous && previous.rolloutId === rolloutId ? previous : recordAttempt(undefined, rolloutId, now).tracking!;
  const to: OutcomeState = outcome === 'success' ? 'updated' : 'failed';
  if (base.state === to) return { tracking: base, transition: undefined };
  return moveTo(base, to, now, {
    ...(to === 'updated' ? { tookMs: now - base.firstServedAt } : { failure: `reported: ${reason ?? 'no reason'}` }),
  });
}

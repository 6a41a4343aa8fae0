import { DomainError } from '../../lib/domain-error.js';

/**
 * How a staged rollout moves and when it judges itself. Every field has a default (README "Rollouts" explains each);
 * a platform's rollout template and a start request may override any of them.
 */
export interface RolloutPolicy {
  /** Advance to the next stage by itself when the soak time has passed and the stage is healthy. */
  autoAdvance: boolean;
  /** How long a stage runs before it may advance by itself. */
  soakMs: number;
  /** A stage is healthy when at least this share of the devices that were served the image updated… */
  successRatio: number;
  /** …over at least this many devices (or every admitted device, when the stage admits fewer). */
  minDevices: number;
  /** The rollout pauses by itself when more than this share of attempted devices failed or went silent… */
  failureRatio: number;
  /** …and they are at least this many (one flaky board is not a verdict). */
  failureMin: number;
  /** Served this many times and still running the old image: failed. */
  maxAttempts: number;
  /** Checks after being served that still report the old image: failed. */
  failAfterChecks: number;
  /** Time since first served with the old image still reported: failed. */
  failAfterMs: number;
  /** No check at all this long after being served: silent (possibly bricked). */
  silentAfterMs: number;
}

const MINUTE = 60_000;

export const DEFAULT_ROLLOUT_POLICY: Readonly<RolloutPolicy> = Object.freeze({
  autoAdvance: false,
  soakMs: 60 * MINUTE,
  successRatio: 0.95,
  minDevices: 5,
  failureRatio: 0.05,
  failureMin: 3,
  maxAttempts: 3,
  failAfterChecks: 3,
  failAfterMs: 60 * MINUTE,
  silentAfterMs: 24 * 60 * MINUTE,
});

export const DEFAULT_STAGES: readonly number[] = Object.freeze([1, 10, 50, 100]);

/** The canary: named devices and groups that get the image before any percentage stage. */
export interface Canary {
  groups: string[];
  macs: string[];
}

/** What a rollout template or a start request may say; everything optional, validated into a full plan. */
export interface RolloutPlanInput {
  stages?: number[] | undefined;
  canary?: Partial<Canary> | undefined;
  policy?: Partial<RolloutPolicy> | undefined;
}

export interface RolloutPlan {
  /** Percentages, strictly increasing, the last one 100. */
  stages: number[];
  canary: Canary;
  policy: RolloutPolicy;
}

const LIMITS: Record<keyof RolloutPolicy, [number, number] | 'boolean'> = {
  autoAdvance: 'boolean',
  soakMs: [0, 30 * 24 * 60 * MINUTE],
  successRatio: [0, 1],
  minDevices: [1, 1_000_000],
  failureRatio: [0, 1],
  failureMin: [1, 1_000_000],
  maxAttempts: [1, 100],
  failAfterChecks: [1, 1_000],
  failAfterMs: [MINUTE, 30 * 24 * 60 * MINUTE],
  silentAfterMs: [MINUTE, 90 * 24 * 60 * MINUTE],
};

function invalid(message: string): never {
  throw new DomainError('bad-request', message);
}

/** Fills in the defaults and refuses what cannot work, with a sentence that names the field. */
export function planRollout(input: RolloutPlanInput = {}, base?: RolloutPlan): RolloutPlan {
  const stages = input.stages ?? base?.stages ?? [...DEFAULT_STAGES];
  if (!Array.isArray(stages) || stages.length === 0 || stages.length > 20)
    invalid('stages is a list of 1 to 20 percentages, e.g. 1,10,50,100');
  stages.forEach((percent, i) => {
    if (typeof percent !== 'number' || !Number.isFinite(percent) || percent <= 0 || percent > 100)
      invalid(`stage ${i + 1} is ${String(percent)}: a stage is a percentage above 0 and at most 100`);
    if (i > 0 && percent <= stages[i - 1]!) invalid('stage percentages must increase, e.g. 1,10,50,100');
  });
  if (stages.at(-1) !== 100) invalid('the last stage must be 100 (the whole fleet)');

  const canaryInput = input.canary ?? base?.canary ?? {};
  const canary: Canary = {
    groups: [...new Set(canaryInput.groups ?? [])],
    macs: [...new Set(canaryInput.macs ?? [])],
  };
  if (canary.groups.length + canary.macs.length > 10_000) invalid('a canary names at most 10,000 devices and groups');

  const policy: RolloutPolicy = { ...DEFAULT_ROLLOUT_POLICY, ...base?.policy };
  for (const [key, value] of Object.entries(input.policy ?? {})) {
    if (value === undefined) continue;
    const limit = LIMITS[key as keyof RolloutPolicy];
    if (!limit) invalid(`unknown rollout setting "${key}"`);
    if (limit === 'boolean') {
      if (typeof value !== 'boolean') invalid(`${key} is true or false`);
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < limit[0] || value > limit[1]) {
      invalid(`${key} must be a number from ${limit[0]} to ${limit[1]}`);
    } else if (!key.endsWith('Ratio') && !Number.isInteger(value)) {
      invalid(`${key} must be a whole number`);
    }
    (policy as unknown as Record<string, unknown>)[key] = value;
  }
  return { stages: [...stages], canary, policy };
}

import type { PlatformRow, RolloutRow, RolloutState } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import type { Catalogue, Stores } from '../catalogue.js';
import { changeEvent } from '../platforms/platform-service.js';
import type { HealthVerdict } from './rollout-health.js';
import { rolloutTarget, startRollout, type StartRolloutInput } from './rollout-start.js';
import type { RolloutChanges } from './rollout-store.js';
import { stageCount, stagePercent } from './rollout-view.js';

export type { StartRolloutInput } from './rollout-start.js';

/** What a person can do to the platform's current rollout. */
export type RolloutAction = 'pause' | 'resume' | 'advance' | 'abort' | 'rollback';

/**
 * The stage the person saw when they asked (the UI and CLI send it): when the rollout has moved on since, the
 * request is refused (409) instead of being applied to a stage nobody looked at. Two people pressing "advance" at
 * once then advance it once.
 */
export interface Seen {
  stageIndex?: number | undefined;
}

/** The actor of transitions the rollout monitor makes by itself. */
export const MONITOR_ACTOR = 'monitor';

/** Where a transition leaves the rollout and the release, and what its event says. */
interface Step {
  changes: RolloutChanges;
  event: string;
  detail: string;
  /** The platform's release pointer afterwards (complete, abort, rollback). */
  release?: { imageId: number | null; pinned: boolean };
}

/**
 * Staged rollouts (docs/architecture.md "Rollouts"): start one, and move it through its stages to `completed`, or
 * stop it (`aborted`). While it runs the platform's release stays on the previous image and the catalogue view
 * admits devices stage by stage; completing moves the release to the target. Every transition is one transaction:
 * the platform locked, the rollout row changed only if it is still where the caller saw it (so two people, or two
 * instances' monitors, cannot apply one transition twice), the release pointer, and an event naming the actor.
 */
export class RolloutService {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    /** A release or rollout changed: the catalogue view reloads (and device statuses are recomputed). */
    private readonly onChange: () => void,
  ) {}

  /** Starts rolling out a kept app image of the platform; 404/409/422 when it cannot (rollout-start.ts). */
  async start(platformName: string, input: StartRolloutInput, actor: string): Promise<RolloutRow> {
    const now = this.clock.now();
    const rollout = await this.catalogue.transact(async (stores) => {
      const platform = await locked(stores, platformName);
      const image = await rolloutTarget(stores, platform, input);
      return startRollout(stores, platform, image, input, actor, now);
    });
    this.onChange();
    return rollout;
  }

  /** The platform and its rollouts, newest first. */
  async list(platformName: string): Promise<{ platform: PlatformRow; rollouts: RolloutRow[] }> {
    const platform = await this.catalogue.stores.platforms.findByName(platformName);
    if (!platform) throw unknownPlatform(platformName);
    return { platform, rollouts: await this.catalogue.stores.rollouts.list(platform.id) };
  }

  async pause(platformName: string, reason: string | undefined, actor: string, seen: Seen = {}): Promise<RolloutRow> {
    return this.act(platformName, actor, seen, (r) => {
      requireState(r, ['running'], 'pause');
      const why = reason?.trim() ? reason.trim().slice(0, 500) : `paused by ${actor}`;
      return { changes: { state: 'paused', pause_reason: why }, event: 'rollout-paused', detail: why };
    });
  }

  async resume(platformName: string, actor: string, seen: Seen = {}): Promise<RolloutRow> {
    return this.act(platformName, actor, seen, (r, now) => {
      requireState(r, ['paused'], 'resume');
      // The stage soaks afresh: what made it pause may have been fixed only now.
      return {
        changes: { state: 'running', pause_reason: null, stage_started_at: now },
        event: 'rollout-resumed',
        detail: `resumed at stage ${r.stage_index + 1} of ${stageCount(r)}`,
      };
    });
  }

  /** The next stage; after the last one the rollout completes and the target becomes the release. */
  async advance(platformName: string, actor: string, seen: Seen = {}): Promise<RolloutRow> {
    return this.act(platformName, actor, seen, (r, now) => {
      requireState(r, ['running'], 'advance');
      return nextStep(r, now, `advanced by ${actor}`);
    });
  }

  /**
   * Stops the rollout: the release stays on (or returns to) the previous image, unpinned, so devices that already
   * updated keep the new image (they are told `device-newer`) until a person rolls back.
   */
  async abort(platformName: string, actor: string, seen: Seen = {}): Promise<RolloutRow> {
    return this.act(platformName, actor, seen, (r, now) => {
      requireState(r, ['running', 'paused'], 'abort');
      return {
        changes: { state: 'aborted', ended_at: now },
        event: 'rollout-aborted',
        detail: `stopped at stage ${r.stage_index + 1} of ${stageCount(r)}; devices that updated keep ${r.target_version}`,
        release: { imageId: r.previous_image_id, pinned: false },
      };
    });
  }

  /**
   * Abort, and release the previous image on purpose (pinned): devices that updated are offered it again (decide's
   * `rollback`). Also for a rollout that was aborted before, as long as it is the platform's latest.
   */
  async rollback(platformName: string, actor: string, seen: Seen = {}): Promise<RolloutRow> {
    return this.act(
      platformName,
      actor,
      seen,
      (r, now) => {
        requireState(r, ['running', 'paused', 'aborted'], 'roll back');
        if (r.previous_image_id === null)
          throw new DomainError(
            'rollout-state',
            `nothing to roll back to: ${r.previous_version ?? 'no image'} was released before, and it is not kept`,
          );
        return {
          changes: r.state === 'aborted' ? { updated_at: now } : { state: 'aborted', ended_at: now },
          event: 'rollout-rolled-back',
          detail: `${r.previous_version ?? ''} released again; devices on ${r.target_version} are offered it`,
          release: { imageId: r.previous_image_id, pinned: true },
        };
      },
      true,
    );
  }

  /**
   * The rollout monitor's verdict (ApplyVerdict): applied only if the rollout is still running at that stage, so
   * a verdict reached by several instances at once is applied once. False when someone else was first.
   */
  async applyVerdict(
    rolloutId: number,
    stageIndex: number,
    verdict: Exclude<HealthVerdict, { action: 'none' }>,
  ): Promise<boolean> {
    const now = this.clock.now();
    const applied = await this.catalogue.transact(async (stores) => {
      const seen = await stores.rollouts.get(rolloutId);
      const platform = seen && (await stores.platforms.lockById(seen.platform_id));
      const rollout = platform && (await stores.rollouts.get(rolloutId));
      if (!platform || !rollout || rollout.state !== 'running' || rollout.stage_index !== stageIndex) return false;
      const step: Step =
        verdict.action === 'pause'
          ? { changes: { state: 'paused', pause_reason: verdict.why }, event: 'rollout-paused', detail: verdict.why }
          : nextStep(rollout, now, verdict.why);
      return apply(stores, platform, rollout, step, MONITOR_ACTOR, now);
    });
    if (applied) this.onChange();
    return applied;
  }

  /** One person's transition of the platform's current rollout (or its latest, for a rollback after an abort). */
  private async act(
    platformName: string,
    actor: string,
    seen: Seen,
    plan: (rollout: RolloutRow, now: number) => Step,
    orLatest = false,
  ): Promise<RolloutRow> {
    const now = this.clock.now();
    const rollout = await this.catalogue.transact(async (stores) => {
      const platform = await locked(stores, platformName);
      const current =
        (await stores.rollouts.active(platform.id)) ??
        (orLatest ? (await stores.rollouts.list(platform.id, 1))[0] : undefined);
      if (!current) throw new DomainError('no-rollout', `"${platform.name}" has no rollout running or paused`);
      if (seen.stageIndex !== undefined && seen.stageIndex !== current.stage_index)
        throw new DomainError(
          'rollout-state',
          `the rollout is at stage ${current.stage_index + 1} now, not ${seen.stageIndex + 1}: look at it again`,
        );
      const step = plan(current, now);
      if (!(await apply(stores, platform, current, step, actor, now)))
        throw new DomainError('rollout-state', 'the rollout changed meanwhile: look at it again, then retry');
      return (await stores.rollouts.get(current.id))!;
    });
    this.onChange();
    return rollout;
  }
}

/** Advance to the next stage, or complete after the last. */
function nextStep(r: RolloutRow, now: number, why: string): Step {
  const count = stageCount(r);
  if (r.stage_index + 1 < count) {
    const next = r.stage_index + 1;
    return {
      changes: { stage_index: next, stage_started_at: now },
      event: 'rollout-advanced',
      detail: `stage ${next + 1} of ${count}: ${stagePercent(r, next)} % (${why})`,
    };
  }
  if (r.image_id === null)
    throw new DomainError('rollout-state', `${r.target_version} was deleted: the rollout cannot complete`);
  return {
    changes: { state: 'completed', ended_at: now },
    event: 'rollout-completed',
    detail: `${r.target_version} is released (${why})`,
    // A person started it, so it is a release a person chose, as `release` makes it.
    release: { imageId: r.image_id, pinned: true },
  };
}

/** The conditional update, the release pointer and the event, in the caller's transaction. */
async function apply(
  stores: Stores,
  platform: PlatformRow,
  rollout: RolloutRow,
  step: Step,
  actor: string,
  now: number,
): Promise<boolean> {
  const from = { state: rollout.state, stageIndex: rollout.stage_index };
  if (!(await stores.rollouts.transition(rollout.id, from, { ...step.changes, updated_at: now }))) return false;
  if (step.release && step.release.imageId !== null) {
    await stores.platforms.update(platform.id, {
      released_app_id: step.release.imageId,
      app_release_pinned: step.release.pinned ? 1 : 0,
      updated_at: now,
    });
  } else if (step.release) {
    await stores.platforms.update(platform.id, { app_release_pinned: 0, updated_at: now });
  }
  const pause = step.changes.state === 'paused' ? (step.changes.pause_reason ?? null) : null;
  await stores.events.append([
    {
      ...changeEvent(now, step.event, platform.name, actor, step.detail),
      from_version: rollout.previous_version,
      to_version: rollout.target_version,
      reason: pause,
    },
  ]);
  return true;
}

function requireState(rollout: RolloutRow, allowed: RolloutState[], what: string): void {
  if (!allowed.includes(rollout.state))
    throw new DomainError(
      'rollout-state',
      `cannot ${what} the rollout of ${rollout.target_version}: it is ${rollout.state}`,
    );
}

async function locked(stores: Stores, platformName: string): Promise<PlatformRow> {
  const platform = await stores.platforms.lockByName(platformName);
  if (!platform) throw unknownPlatform(platformName);
  return platform;
}

function unknownPlatform(name: string): DomainError {
  return new DomainError('unknown-platform', `there is no platform named "${name.slice(0, 64)}"`);
}

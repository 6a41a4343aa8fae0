import type { ImageRow, PlatformRow, RolloutRow } from '../../db/tables.js';
import type { Stores } from '../catalogue.js';
import { toReleasedImage, type RolloutView } from '../update-check/catalogue-snapshot.js';
import { DEFAULT_ROLLOUT_POLICY, type Canary, type RolloutPolicy } from './rollout-policy.js';
import { parseUpdateWindow, type UpdateWindow } from './update-window.js';

/**
 * Reading a stored rollout: its stages (the canary, when it names anyone, is stage 0 and admits no percentage),
 * and the RolloutView a device check needs. Parsing is defensive: a row another version wrote, or a hand-edited
 * one, degrades to defaults rather than failing every check of the platform.
 */

function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function rolloutStages(row: Pick<RolloutRow, 'stages'>): number[] {
  const stages = parseJson(row.stages);
  return Array.isArray(stages) && stages.every((s) => typeof s === 'number') ? stages : [100];
}

export function rolloutCanary(row: Pick<RolloutRow, 'canary'>): Canary {
  const canary = parseJson(row.canary) as Partial<Canary> | undefined;
  const strings = (list: unknown) => (Array.isArray(list) ? list.filter((x) => typeof x === 'string') : []);
  return { groups: strings(canary?.groups), macs: strings(canary?.macs) };
}

export function rolloutPolicy(row: Pick<RolloutRow, 'policy'>): RolloutPolicy {
  const stored = parseJson(row.policy);
  return { ...DEFAULT_ROLLOUT_POLICY, ...(typeof stored === 'object' && stored !== null ? stored : {}) };
}

export function hasCanary(canary: Canary): boolean {
  return canary.groups.length + canary.macs.length > 0;
}

/** Stages a rollout walks through: the canary (if any), then each percentage. */
export function stageCount(row: Pick<RolloutRow, 'stages' | 'canary'>): number {
  return rolloutStages(row).length + (hasCanary(rolloutCanary(row)) ? 1 : 0);
}

/** The percentage a stage admits: 0 for the canary stage. */
export function stagePercent(row: Pick<RolloutRow, 'stages' | 'canary'>, stageIndex: number): number {
  const stages = rolloutStages(row);
  const index = hasCanary(rolloutCanary(row)) ? stageIndex - 1 : stageIndex;
  return index < 0 ? 0 : (stages[Math.min(index, stages.length - 1)] ?? 100);
}

/**
 * The view of a running or paused rollout, or undefined when its image is gone (deleted or never an app image):
 * then devices simply get the release.
 */
export function toRolloutView(
  row: RolloutRow,
  image: ImageRow | undefined,
  /** MACs of the devices in the canary's groups. */
  groupMembers: Iterable<string> = [],
): RolloutView | undefined {
  if (!image || image.kind !== 'app' || (row.state !== 'running' && row.state !== 'paused')) return undefined;
  return {
    id: row.id,
    state: row.state,
    target: toReleasedImage(image),
    percent: stagePercent(row, row.stage_index),
    stageIndex: row.stage_index,
    stageCount: stageCount(row),
    stageStartedAt: row.stage_started_at,
    canary: new Set([...rolloutCanary(row).macs, ...groupMembers]),
    policy: rolloutPolicy(row),
  };
}

/** The platform's update window, or none when it has none or the stored one does not read. */
export function platformWindow(platform: Pick<PlatformRow, 'update_window'>): UpdateWindow | undefined {
  const stored = parseJson(platform.update_window) as { from: string; to: string; timeZone: string } | undefined;
  if (typeof stored !== 'object' || stored === null) return undefined;
  try {
    return parseUpdateWindow(stored);
  } catch {
    return undefined;
  }
}

/**
 * Every platform's running or paused rollout with its canary groups' members, for the catalogue view: one query for
 * the rollouts, one per canary that names groups.
 */
export async function loadActiveRollouts(stores: Pick<Stores, 'rollouts' | 'canaryGroups'>): Promise<{
  view(platformId: number, images: ImageRow[]): RolloutView | undefined;
}> {
  const rows = await stores.rollouts.allActive();
  const members = new Map<number, string[]>();
  for (const row of rows) {
    const groups = rolloutCanary(row).groups;
    if (groups.length > 0) members.set(row.id, await stores.canaryGroups.members(row.platform_id, groups));
  }
  const byPlatform = new Map(rows.map((r) => [r.platform_id, r]));
  return {
    view(platformId, images) {
      const row = byPlatform.get(platformId);
      if (!row) return undefined;
      return toRolloutView(
        row,
        images.find((i) => i.id === row.image_id),
        members.get(row.id),
      );
    },
  };
}

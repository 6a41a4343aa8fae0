import type { RolloutRow } from '../../db/tables.js';
import type { DeviceRegistry } from '../fleet/device-registry.js';
import type { RolloutDeviceCounts } from '../fleet/rollout-membership.js';
import type { RolloutService } from './rollout-service.js';
import { hasCanary, rolloutCanary, rolloutStages } from './rollout-view.js';

/** What people see of a platform's newest rollout (running or not). */
export interface RolloutSummary {
  state: RolloutRow['state'];
  targetVersion: string;
  previousVersion: string | null;
  /** The stage it is in; with a canary, stage 0 is the canary. */
  stageIndex: number;
  /** The percentages of its stages, in order. */
  stages: number[];
  hasCanary: boolean;
  stageStartedAt: number;
  pauseReason: string | null;
  createdBy: string;
}

export interface FailingDevice {
  mac: string;
  state: 'failed' | 'silent';
  reason: string;
}

export interface RolloutOverview {
  rollout: RolloutSummary | undefined;
  /** Devices by rollout state, for a running or paused rollout. */
  devices: RolloutDeviceCounts | undefined;
  failing: FailingDevice[];
}

/** The most failing devices a page lists (the counts say how many there are in all). */
const FAILING_SHOWN = 50;

/** A platform's newest rollout with its devices by state and the devices that did not update, for the pages. */
export async function rolloutOverview(
  rollouts: RolloutService,
  fleet: { registry: DeviceRegistry; rolloutDevices(id: number): RolloutDeviceCounts },
  platformName: string,
): Promise<RolloutOverview> {
  const newest = (await rollouts.list(platformName)).rollouts[0];
  if (!newest) return { rollout: undefined, devices: undefined, failing: [] };
  const active = newest.state === 'running' || newest.state === 'paused';
  const failing: FailingDevice[] = [];
  for (const entry of fleet.registry.failing(newest.id)) {
    if (failing.length === FAILING_SHOWN) break;
    const state = entry.rollout!.state as 'failed' | 'silent';
    failing.push({ mac: entry.mac, state, reason: entry.rollout!.failure ?? state });
  }
  return {
    rollout: summarizeRollout(newest),
    devices: active ? fleet.rolloutDevices(newest.id) : undefined,
    failing,
  };
}

/** A rollout as people read it. */
export function summarizeRollout(row: RolloutRow): RolloutSummary {
  return {
    state: row.state,
    targetVersion: row.target_version,
    previousVersion: row.previous_version,
    stageIndex: row.stage_index,
    stages: rolloutStages(row),
    hasCanary: hasCanary(rolloutCanary(row)),
    stageStartedAt: Number(row.stage_started_at),
    pauseReason: row.pause_reason,
    createdBy: row.created_by,
  };
}

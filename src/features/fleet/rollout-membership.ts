import type { OutcomeState } from '../rollouts/device-outcome.js';
import { bucketAdmitted, rolloutBucket } from '../rollouts/rollout-bucket.js';
import type { PlatformView, RolloutView } from '../update-check/catalogue-snapshot.js';
import type { DeviceEntry } from './device-entry.js';

/** Where a device stands in a rollout, as people see it. */
export type RolloutDeviceState = 'pending' | 'admitted' | OutcomeState | 'excluded' | 'pinned';

export const ROLLOUT_DEVICE_STATES: readonly RolloutDeviceState[] = [
  'pending',
  'admitted',
  'offered',
  'updated',
  'failed',
  'silent',
  'excluded',
  'pinned',
];

export type RolloutDeviceCounts = Record<RolloutDeviceState, number>;

export function noRolloutDevices(): RolloutDeviceCounts {
  return Object.fromEntries(ROLLOUT_DEVICE_STATES.map((state) => [state, 0])) as RolloutDeviceCounts;
}

/** Whether the rollout's current stage admits this device (its canary, or its bucket within the percentage). */
export function admits(rollout: RolloutView, mac: string): boolean {
  return rollout.canary.has(mac) || bucketAdmitted(rolloutBucket(rollout.id, mac), rollout.percent);
}

/**
 * A device's place in the rollout: pinned and excluded devices are never moved; admitted devices are waiting to be
 * served (`admitted`) or have what the rollout learned of them; devices that already run the image without being
 * served by it count as updated; the rest wait for a later stage.
 */
export function rolloutDeviceState(
  entry: DeviceEntry,
  platform: PlatformView,
  rollout: RolloutView,
): RolloutDeviceState {
  if (platform.pins.has(entry.mac)) return 'pinned';
  if (platform.excluded.has(entry.mac)) return 'excluded';
  if (entry.rollout?.rolloutId === rollout.id) return entry.rollout.state;
  if (entry.runningImageId === rollout.target.id) return 'updated';
  return admits(rollout, entry.mac) ? 'admitted' : 'pending';
}

import { compareVersions } from '../../lib/version.js';
import type { PlatformView, ReleasedImage } from '../update-check/catalogue-snapshot.js';

/**
 * Where a device stands, against the image its platform is moving it to: its pin, else the running rollout's image
 * (unless it is excluded), else the release. Rollout stages do not change it: a device waiting for its stage is
 * `outdated`, and the rollout's own states say why it waits.
 */
export type DeviceStatus = 'current' | 'outdated' | 'newer' | 'unknown' | 'refused';

export const DEVICE_STATUSES: readonly DeviceStatus[] = ['current', 'outdated', 'newer', 'unknown', 'refused'];

/** What the status depends on: the device's last answer and what it runs. */
export interface StatusInputs {
  mac: string;
  lastDecision: string;
  runningImageId: number | null;
  runningVersion: string | null;
}

/** The image the platform moves this device to, or undefined when nothing is released or rolled out. */
export function targetImage(mac: string, platform: PlatformView): ReleasedImage | undefined {
  const pinned = platform.pins.get(mac);
  if (pinned) return pinned;
  if (platform.rollout && !platform.excluded.has(mac)) return platform.rollout.target;
  return platform.app;
}

export function deviceStatus(device: StatusInputs, platform: PlatformView | undefined): DeviceStatus {
  if (device.lastDecision === 'refuse') return 'refused';
  if (!platform) return 'unknown';
  const target = targetImage(device.mac, platform);
  if (!target) return 'unknown';
  if (device.runningImageId !== null && device.runningImageId === target.id) return 'current';
  if (device.runningVersion === null) return 'unknown';
  const order = compareVersions(device.runningVersion, target.version);
  return order === 0 ? 'current' : order === 1 ? 'newer' : 'outdated';
}

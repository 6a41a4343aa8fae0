import type { RolloutTracking } from '../rollouts/device-outcome.js';
import type { DeviceStatus } from './device-status.js';

/**
 * One known device as this process remembers it: what a check needs to decide and to tell a change from a
 * heartbeat, and what it has not written yet. Kept small (about 250 bytes; a million devices fit in a few hundred
 * MiB): the device's facts (address, SDK, free space, flash, sketch MD5) are kept only as a hash, since only their
 * change matters here and the database holds the values.
 */
export class DeviceEntry {
  constructor(
    readonly mac: string,
    public platformId: number | null,
    public platformName: string,
    /** The version it runs, as it reports it or as its sketch digest says; null when nothing tells. */
    public runningVersion: string | null,
    /** The kept image it runs (by digest or version), when it is one. */
    public runningImageId: number | null,
    public lastDecision: string,
    public lastReason: string,
    public status: DeviceStatus,
    /** Hash of the facts the device sends (address, SDK, space, flash, MD5): a change is written, quietly. */
    public factsHash: number,
    public lastSeenAt: number,
    public changedAt: number,
    public downloadedImageId: number | null,
    public downloadsOfRelease: number,
    /** What the rollout that served it knows of it; null when no rollout has served it. */
    public rollout: RolloutTracking | null,
    /** Checks and downloads not yet written. */
    public pendingChecks = 0,
    public pendingDownloads = 0,
    /** Whether it waits in the heartbeat queue (at most once). */
    public heardQueued = false,
    /** When a refusal of this device was last written as an event, and how many were folded since. */
    public refusalEventAt = 0,
    public refusalsFolded = 0,
  ) {}
}

/** The facts a check reports about the device itself, as one number: equal facts, equal hash. */
export function factsHash(facts: {
  family: string | null;
  ip: string | null;
  sdkVersion: string | null;
  freeSpace: number | null;
  chipSize: number | null;
  sketchMd5: string | null;
}): number {
  let h = 0x811c9dc5;
  const mix = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x1f; // field separator
    h = Math.imul(h, 0x01000193);
  };
  mix(facts.family ?? '');
  mix(facts.ip ?? '');
  mix(facts.sdkVersion ?? '');
  mix(facts.freeSpace === null ? '' : String(facts.freeSpace));
  mix(facts.chipSize === null ? '' : String(facts.chipSize));
  mix(facts.sketchMd5 ?? '');
  return h | 0;
}

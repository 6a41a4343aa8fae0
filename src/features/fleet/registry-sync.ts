import type { RegistryRow } from '../devices/device-writes.js';
import type { DeviceRegistry } from './device-registry.js';
import { entryFromRow } from './registry-loader.js';

/**
 * Takes in device rows another instance wrote (it said so on the devices channel), by the same rules the database
 * merges rows with (devices/device-writes.ts): the state (platform, image, answer, status, rollout) of the newer
 * change, the facts of the newer sighting, the later last-seen time. What this process has counted and not written
 * yet (pending checks and downloads, the heartbeat queue, folded refusals) stays with its entry, so nothing is lost
 * and nothing is counted twice: counters add up in the database, never in memory.
 *
 * Returns how many entries changed.
 */
export function takeInStoredRows(registry: DeviceRegistry, rows: readonly RegistryRow[]): number {
  let changed = 0;
  for (const row of rows) {
    const stored = entryFromRow(row);
    const entry = registry.get(row.mac);
    if (!entry) {
      registry.insert(stored);
      changed++;
      continue;
    }
    const newerState = stored.changedAt > entry.changedAt;
    const newerFacts = stored.lastSeenAt > entry.lastSeenAt && stored.factsHash !== entry.factsHash;
    if (newerState || newerFacts) {
      registry.change(entry, (e) => {
        if (newerState) {
          e.platformId = stored.platformId;
          e.platformName = stored.platformName;
          e.runningVersion = stored.runningVersion;
          e.runningImageId = stored.runningImageId;
          e.lastDecision = stored.lastDecision;
          e.lastReason = stored.lastReason;
          e.status = stored.status;
          e.changedAt = stored.changedAt;
          e.downloadedImageId = stored.downloadedImageId;
          e.downloadsOfRelease = stored.downloadsOfRelease;
          e.rollout = stored.rollout;
        }
        if (newerFacts) e.factsHash = stored.factsHash;
      });
      changed++;
    }
    if (stored.lastSeenAt > entry.lastSeenAt) registry.heard(entry, stored.lastSeenAt);
  }
  return changed;
}

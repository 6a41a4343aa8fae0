import type { RegistryRow } from '../devices/device-writes.js';
import type { OutcomeState, RolloutTracking } from '../rollouts/device-outcome.js';
import { DeviceEntry, factsHash } from './device-entry.js';
import type { DeviceRegistry } from './device-registry.js';
import { DEVICE_STATUSES, type DeviceStatus } from './device-status.js';

const PAGE = 20_000;
const OUTCOMES = new Set<string>(['offered', 'updated', 'failed', 'silent']);

/** The registry's entry for a stored row. */
export function entryFromRow(row: RegistryRow): DeviceEntry {
  return new DeviceEntry(
    row.mac,
    row.platform_id,
    row.platform_name,
    row.reported_version,
    row.running_image_id,
    row.last_decision,
    row.last_reason,
    (DEVICE_STATUSES as readonly string[]).includes(row.status) ? (row.status as DeviceStatus) : 'unknown',
    factsHash({
      family: row.family,
      ip: row.ip,
      sdkVersion: row.sdk_version,
      freeSpace: row.free_space,
      chipSize: row.chip_size,
      sketchMd5: row.sketch_md5,
    }),
    row.last_seen_at,
    row.changed_at,
    row.downloaded_image_id,
    row.downloads_of_release,
    trackingFromRow(row),
  );
}

function trackingFromRow(row: RegistryRow): RolloutTracking | null {
  if (row.rollout_id === null || row.rollout_state === null || !OUTCOMES.has(row.rollout_state)) return null;
  return {
    rolloutId: row.rollout_id,
    state: row.rollout_state as OutcomeState,
    attempts: row.rollout_attempts,
    firstServedAt: row.rollout_first_served_at ?? row.last_seen_at,
    lastServedAt: row.rollout_served_at ?? row.last_seen_at,
    checksSinceServed: row.rollout_checks_since_served,
    outcomeAt: row.rollout_outcome_at,
    failure: row.rollout_failure,
  };
}

/**
 * Fills the registry from the database, a page at a time in MAC order, yielding between pages so that the server
 * keeps answering (device checks wait for the load to finish: they need their device's previous state).
 */
export async function loadRegistry(
  registry: DeviceRegistry,
  page: (afterMac: string, limit: number) => Promise<RegistryRow[]>,
): Promise<number> {
  let after = '';
  for (;;) {
    const rows = await page(after, PAGE);
    for (const row of rows) registry.insert(entryFromRow(row));
    if (rows.length < PAGE) return registry.size;
    after = rows.at(-1)!.mac;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

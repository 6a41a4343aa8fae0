import type { RegistryRow } from '../devices/device-writes.js';
import type { OutcomeState, RolloutTracking } from '../rollouts/device-outcome.js';
import { DeviceEntry, factsHash } from './device-entry.js';
import type { DeviceRegistry } from './device-registry.js';
import { DEVICE_STATUSES, type DeviceStatus } from './device-status.js';

/**
 * Rows per page. Small on purpose: a page's rows die young, in V8's new space, while the entries made from them live
 * on. With 20,000-row pages they outlived it and were promoted, and loading 100,000 devices left 170 MiB of garbage
 * in the old space (resident memory 364 MiB instead of 223; bench/fleet.bench.ts).
 */
const PAGE = 2_000;
const OUTCOMES = new Set<string>(['offered', 'updated', 'failed', 'silent']);

/** Returns the copy of each text already seen: a fleet has few platforms, versions and reasons. */
export type Interner = (text: string) => string;

export function createInterner(): Interner {
  const seen = new Map<string, string>();
  return (text) => {
    const kept = seen.get(text);
    if (kept !== undefined) return kept;
    seen.set(text, text);
    return text;
  };
}

/**
 * The registry's entry for a stored row. Texts shared by many devices (platform, version, decision, reason) are
 * interned: the database hands out a fresh string per row, which would cost about 120 bytes a device.
 */
export function entryFromRow(row: RegistryRow, intern: Interner = (text) => text): DeviceEntry {
  return new DeviceEntry(
    row.mac,
    row.platform_id,
    intern(row.platform_name),
    row.reported_version === null ? null : intern(row.reported_version),
    row.running_image_id,
    intern(row.last_decision),
    intern(row.last_reason),
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
  const intern = createInterner();
  for (;;) {
    const rows = await page(after, PAGE);
    for (const row of rows) registry.insert(entryFromRow(row, intern));
    if (rows.length < PAGE) return registry.size;
    after = rows.at(-1)!.mac;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

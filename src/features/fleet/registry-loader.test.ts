import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { RegistryRow } from '../devices/device-writes.js';
import { DeviceRegistry } from './device-registry.js';
import { loadRegistry } from './registry-loader.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const DEVICES = 100_000;

/** Rows as the database hands them out: every text a fresh string, as better-sqlite3 and pg make them. */
function rowsPage(afterMac: string, limit: number): Promise<RegistryRow[]> {
  const first = afterMac ? parseInt(afterMac, 16) - 0x5ccf7f000000 + 1 : 0;
  const rows: RegistryRow[] = [];
  for (let i = first; i < Math.min(DEVICES, first + limit); i++) {
    const fresh = (text: string) => [...text].join('');
    rows.push({
      mac: (0x5ccf7f000000 + i).toString(16),
      platform_id: 1,
      platform_name: fresh('Lights'),
      family: fresh('esp8266'),
      ip: fresh('10.0.0.7'),
      reported_version: fresh('2.0.0'),
      sdk_version: null,
      free_space: 3_000_000,
      chip_size: null,
      sketch_md5: null,
      last_seen_at: 1_764_600_000_000 + i,
      changed_at: 1_764_600_000_000,
      last_decision: fresh('not-modified'),
      last_reason: fresh('current'),
      running_image_id: 3,
      status: fresh('current'),
      downloaded_image_id: null,
      downloads_of_release: 0,
      rollout_id: null,
      rollout_state: null,
      rollout_attempts: 0,
      rollout_first_served_at: null,
      rollout_served_at: null,
      rollout_checks_since_served: 0,
      rollout_outcome_at: null,
      rollout_failure: null,
    } as RegistryRow);
  }
  return Promise.resolve(rows);
}

describe('loading the registry', () => {
  it('keeps a device in about 300 bytes of heap and leaves no page of rows behind', async () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const registry = new DeviceRegistry();
    let peak = 0;
    await loadRegistry(registry, async (after, limit) => {
      peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      return rowsPage(after, limit);
    });
    expect(registry.size).toBe(DEVICES);
    gc();
    const kept = (process.memoryUsage().heapUsed - before) / DEVICES;
    // Texts shared by every device (platform, version, answer) are kept once, not once per device.
    expect(kept).toBeLessThan(360);
    // Pages small enough to die young: the load never holds much more than the entries themselves.
    expect(peak / DEVICES).toBeLessThan(550);
    expect(registry.get('5ccf7f000007')?.platformName).toBe('Lights');
  }, 60_000);
});

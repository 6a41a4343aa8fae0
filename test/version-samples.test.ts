import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { FleetSummary } from '../src/features/fleet/fleet-summary.js';
import { UNKNOWN_VERSION, VersionSamples } from '../src/features/fleet/version-samples.js';
import type { DeviceEntry } from '../src/features/fleet/device-entry.js';
import { describeEachStore, insertTestPlatform, openTestDatabase } from './helpers/test-app.js';

const device = (mac: string, platformId: number | null, runningVersion: string | null) =>
  ({ mac, platformId, runningVersion, status: 'current', rollout: undefined }) as unknown as DeviceEntry;

describeEachStore('version samples', (store) => {
  let db: Database;
  let close: () => Promise<void>;
  let platformId: number;
  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(store));
    platformId = await insertTestPlatform(db, 'P');
  });
  afterAll(() => close());

  it('writes the registry counts per version once per instant, and reads and prunes them', async () => {
    const summary = new FleetSummary();
    for (const [mac, version] of [
      ['a1', '1.0.0'],
      ['a2', '1.0.0'],
      ['a3', '2.0.0'],
      ['a4', null],
    ] as const)
      summary.add(device(mac, platformId, version));
    summary.add(device('b1', null, '9.9.9')); // a device of no platform is not drawn anywhere
    const samples = new VersionSamples(db);

    expect(await samples.record(summary, 1_200_000 + 5, 600_000)).toBe(3);
    // A second instance (or a second pass) in the same instant keeps the first row.
    summary.add(device('a5', platformId, '2.0.0'));
    await samples.record(summary, 1_200_000 + 99_000, 600_000);
    await samples.record(summary, 1_800_000, 600_000);

    expect(await samples.since(platformId, 0)).toEqual([
      { at: 1_200_000, version: UNKNOWN_VERSION, devices: 1 },
      { at: 1_200_000, version: '1.0.0', devices: 2 },
      { at: 1_200_000, version: '2.0.0', devices: 1 },
      { at: 1_800_000, version: UNKNOWN_VERSION, devices: 1 },
      { at: 1_800_000, version: '1.0.0', devices: 2 },
      { at: 1_800_000, version: '2.0.0', devices: 2 },
    ]);
    expect(await samples.prune(1_800_000)).toBe(3);
    expect((await samples.since(platformId, 0)).map((s) => s.at)).toEqual([1_800_000, 1_800_000, 1_800_000]);
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

// The log has no index on MAC (migration 003): one device's history is found by scanning newest first. These
// tests pin down what that scan must return: only that device's events, newest first, page after page.
describeEachStore('event log', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store);
  });
  afterAll(() => t.stop());

  const macOf = (device: number) => `5ccf7f00${device.toString(16).padStart(4, '0')}`;

  it("lists one device's events among a fleet's, newest first, in pages", async () => {
    const { events } = t.app.catalogue.stores;
    // The retention pass the server starts once it listens would prune these 1970 events: let it finish first.
    await t.app.maintain();
    // 50 devices take turns 40 times; device 7's checks carry their turn in from_version.
    const rows = Array.from({ length: 2000 }, (_, n) => ({
      at: 1_000_000 + n,
      type: 'check',
      platform_name: n % 2 ? 'Odd' : 'Even',
      mac: macOf(n % 50),
      from_version: String(Math.floor(n / 50)),
      to_version: null,
      decision: 'not-modified',
      reason: 'current',
      detail: 'the device runs the released version',
    }));
    await events.append(rows);

    const first = await events.list({ mac: macOf(7), limit: 15 });
    expect(first.map((e) => e.from_version)).toEqual(Array.from({ length: 15 }, (_, i) => String(39 - i)));
    expect(new Set(first.map((e) => e.mac))).toEqual(new Set([macOf(7)]));

    const rest = await events.list({ mac: macOf(7), beforeId: first.at(-1)!.id, limit: 100 });
    expect(rest.map((e) => e.from_version)).toEqual(Array.from({ length: 25 }, (_, i) => String(24 - i)));

    expect(await events.list({ mac: macOf(99), limit: 10 })).toEqual([]);
    const odd = await events.list({ mac: macOf(7), platform: 'Odd', limit: 100 });
    expect(odd).toHaveLength(40); // device 7 is always an odd turn
    expect(await events.list({ mac: macOf(7), platform: 'Even', limit: 100 })).toEqual([]);
  });
});

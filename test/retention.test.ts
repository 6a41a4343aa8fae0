import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const DAY = 86_400_000;

describeEachStore('retention', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store, { eventRetentionDays: 30, eventRetentionCount: 1000, deviceRetentionDays: 90 });
  });
  afterAll(() => t.stop());

  it('deletes events by age and by count, and devices gone for good', async () => {
    const now = Date.now();
    const event = (at: number) => ({
      at,
      type: 'check',
      platform_name: 'P',
      mac: null,
      from_version: null,
      to_version: null,
      decision: null,
      reason: null,
      detail: null,
    });
    const { events, devices } = t.app.catalogue.stores;
    await events.append([
      ...Array.from({ length: 10 }, () => event(now - 40 * DAY)),
      ...Array.from({ length: 1200 }, (_, i) => event(now - DAY + i)),
    ]);
    const sighting = (mac: string, lastSeen: number) => ({
      mac,
      platform_id: null,
      platform_name: 'P',
      family: null,
      ip: null,
      reported_version: null,
      sdk_version: null,
      free_space: null,
      chip_size: null,
      sketch_md5: null,
      first_seen_at: lastSeen,
      last_seen_at: lastSeen,
      last_decision: 'not-modified',
      last_reason: 'current',
      check_count: 1,
      download_count: 0,
      downloaded_image_id: null,
      downloads_of_release: 0,
    });
    await devices.record([sighting('000000000001', now - 100 * DAY), sighting('000000000002', now)]);

    await t.app.maintain();
    const left = await events.list({ limit: 10_000 });
    expect(left).toHaveLength(1000);
    expect(Math.min(...left.map((e) => e.at))).toBe(now - DAY + 200); // the 1,000 newest survive
    expect((await devices.list({ limit: 10 })).map((d) => d.mac)).toEqual(['000000000002']);
  });
});

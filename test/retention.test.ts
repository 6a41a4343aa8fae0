import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/compose.js';
import { loadConfig } from '../src/config.js';
import { TEST_TOKEN } from './helpers/http.js';
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

describe('retention at start', () => {
  it('runs after the server listens, and prunes a large backlog a chunk at a time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esp-ota-retention-'));
    const config = {
      ...loadConfig({ env: {} }),
      port: 0,
      host: '127.0.0.1',
      data: dir,
      eventRetentionCount: 1000,
      apiToken: TEST_TOKEN,
    };
    const first = await createApp(config, { logger: pino({ level: 'silent' }), announce: () => undefined });
    const at = Date.now();
    const backlog = Array.from({ length: 30_000 }, (_, i) => ({ at: at + i, type: 'check', mac: null }));
    for (let i = 0; i < backlog.length; i += 5000)
      await first.catalogue.stores.events.append(backlog.slice(i, i + 5000));
    await first.close();

    const app = await createApp(config, { logger: pino({ level: 'silent' }), announce: () => undefined });
    try {
      const count = async () =>
        Number(
          (
            await app.db
              .selectFrom('events')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      expect(await count()).toBe(30_000); // nothing pruned before it listens
      const url = await app.listen();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      for (let i = 0; i < 200 && (await count()) > 1000; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await count()).toBe(1000);
      const oldest = await app.db.selectFrom('events').select('at').orderBy('id').limit(1).executeTakeFirstOrThrow();
      expect(oldest.at).toBe(at + 29_000);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

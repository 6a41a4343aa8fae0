import { statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';

const HOUR = 3_600_000;

describe('issue 11 (storage): SQLite gives freed space back', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.stop());

  it('issue 11 (storage): the database file shrinks once retention has deleted most events', async () => {
    t = await startTestApp('sqlite', { eventRetentionCount: 100, maintenanceIntervalMs: HOUR });
    const file = join(t.dataDir, 'esp-ota.sqlite');
    const now = Date.now();
    const event = (i: number) => ({
      at: now - i,
      type: 'check',
      platform_name: 'P',
      mac: null,
      from_version: null,
      to_version: null,
      decision: null,
      reason: null,
      detail: `a detail long enough to fill pages ${i} `.repeat(8),
    });
    const { events } = t.app.catalogue.stores;
    for (let start = 0; start < 30_000; start += 1000)
      await events.append(Array.from({ length: 1000 }, (_, i) => event(start + i)));
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(t.app.db);
    const full = statSync(file).size;
    expect(full).toBeGreaterThan(8 * 1024 * 1024);

    await t.app.maintain();
    expect((await events.list({ limit: 1000 })).length).toBe(100);
    // Every freed page goes back, not one per maintenance run.
    expect(statSync(file).size).toBeLessThan(full / 10);
  });
});

describeEachStore('issue 11 (storage): a deleted image’s firmware file goes soon after the grace period', (store) => {
  let t: TestApp;
  afterEach(() => t.stop());

  it('issue 11 (storage): without waiting for the hourly maintenance', async () => {
    t = await startTestApp(store, { orphanGraceMs: 300, maintenanceIntervalMs: HOUR });
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'AirPatrol' });
    const upload = async (version: string) => {
      const sketch = buildEsp8266App({ strings: [`ESP-OTA:platform=AirPatrol;version=${version}`] });
      const response = await api<{ image: { id: number; sha256: string } }>(t.url, 'POST', '/api/v1/firmware', sketch);
      expect(response.status).toBe(201);
      return response.json.image;
    };
    const old = await upload('1.0.0');
    const current = await upload('1.1.0');
    const stored = async () => (await t.app.blobs.list()).map((b) => b.key).sort();
    expect(await stored()).toEqual([old.sha256, current.sha256].sort());

    expect((await api(t.url, 'DELETE', `/api/v1/firmware/${old.id}`)).status).toBe(204);
    // Kept through the grace period (an upload may be between committing its file and its row)…
    expect(await stored()).toContain(old.sha256);
    // …and gone soon after it, though the next maintenance is an hour away.
    await vi.waitFor(async () => expect(await stored()).toEqual([current.sha256]), { timeout: 10_000, interval: 100 });
  });
});

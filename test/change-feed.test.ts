import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTENER_APPLICATION_NAME } from '../src/db/notifications.js';
import { buildEsp32App } from './synthetic/image-builder.js';
import { api } from './helpers/http.js';
import { PG_SKIP_REASON, PG_URL } from './helpers/test-app.js';
import { listenerCount, onDatabase, startInstances, within, type Instance } from './helpers/instances.js';

const REFRESH_MS = 3_000;

/** Listening connections on one database, seen from another (the database may refuse new connections). */
async function listenersOf(name: string): Promise<number> {
  const rows = await onDatabase<{ n: string }>(
    PG_URL!,
    'select count(*) as n from pg_stat_activity where datname = $1 and application_name = $2',
    [name, LISTENER_APPLICATION_NAME],
  );
  return Number(rows[0]!.n);
}

/** One check of `mac` against an instance, as an ESP32 client sends it; resolves to the status. */
async function check(url: string, platform: string, mac: string, version: string): Promise<number> {
  const response = await fetch(`${url}/update?dev=${platform}&ver=${version}`, { headers: { 'x-esp32-sta-mac': mac } });
  await response.arrayBuffer();
  return response.status;
}

/** The instance's snapshot is loaded now, so that only a notification (not its age) can make it reload soon. */
async function freshSnapshot(instance: Instance, platform: string): Promise<void> {
  instance.app.view.invalidate();
  await check(instance.url, platform, '24:0A:C4:FF:FF:FF', '0.0.1');
}

describe.skipIf(!PG_URL)(`issue 13 §3: changes reach every instance ${PG_URL ? '' : `— ${PG_SKIP_REASON}`}`, () => {
  let a: Instance;
  let b: Instance;
  let databaseUrl: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const started = await startInstances(2, { catalogueRefreshMs: REFRESH_MS });
    [a, b] = started.instances as [Instance, Instance];
    databaseUrl = started.databaseUrl;
    stop = started.stop;
    expect(await listenerCount(databaseUrl)).toBe(2);
  });
  afterAll(() => stop());

  it('an upload and release on A is served by B within 1 s (catalogue refresh is 3 s)', async () => {
    await api(a.url, 'POST', '/api/v1/platforms', { name: 'Feed', accessMode: 'open' });
    await freshSnapshot(b, 'Feed');
    expect(await check(b.url, 'Feed', '24:0A:C4:00:00:01', '1.0.0')).toBe(304);
    const image = buildEsp32App({ descriptor: { projectName: 'Feed', version: '2.0.0' } });
    expect((await api(a.url, 'POST', '/api/v1/firmware', image)).status).toBe(201);
    const ms = await within(1_000, async () => (await check(b.url, 'Feed', '24:0A:C4:00:00:01', '1.0.0')) === 200);
    expect(ms).toBeLessThan(1_000);
  });

  it('falls back to the periodic refresh while the listener is down, and hears changes within 1 s once back', async () => {
    await api(a.url, 'POST', '/api/v1/platforms', { name: 'Fallback', accessMode: 'open' });
    await freshSnapshot(b, 'Fallback');
    // The listeners are ended and cannot come back: the database takes no new connection meanwhile (the pools keep
    // the ones they hold, enough for the write on A and the refresh on B).
    const name = new URL(databaseUrl).pathname.slice(1);
    await onDatabase(PG_URL!, `alter database ${name} allow_connections false`);
    try {
      await onDatabase(
        PG_URL!,
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = $2`,
        [name, LISTENER_APPLICATION_NAME],
      );
      await within(2_000, async () => (await listenersOf(name)) === 0);
      await api(a.url, 'PATCH', '/api/v1/platforms/Fallback', { accessMode: 'allowlist' });
      const fallbackMs = await within(
        REFRESH_MS + 1_500,
        async () => (await check(b.url, 'Fallback', '24:0A:C4:00:00:02', '1.0.0')) === 403,
      );
      // Seen through the periodic refresh: no notification could have arrived.
      expect(await listenersOf(name)).toBe(0);
      expect(fallbackMs).toBeLessThan(REFRESH_MS + 1_500);
    } finally {
      await onDatabase(PG_URL!, `alter database ${name} allow_connections true`);
    }

    // Back within its backoff (at most 5 s); then a change is heard, not waited for.
    await within(7_000, async () => (await listenerCount(databaseUrl)) === 2, 50);
    await freshSnapshot(b, 'Fallback');
    expect(await check(b.url, 'Fallback', '24:0A:C4:00:00:02', '1.0.0')).toBe(403);
    await api(a.url, 'PATCH', '/api/v1/platforms/Fallback', { accessMode: 'open' });
    const heardMs = await within(
      1_000,
      async () => (await check(b.url, 'Fallback', '24:0A:C4:00:00:02', '1.0.0')) !== 403,
    );
    expect(heardMs).toBeLessThan(1_000);
  }, 20_000);

  it('a device polling A and B alternately ends with the right last-seen, version, counters and history', async () => {
    await api(a.url, 'POST', '/api/v1/platforms', { name: 'Roam', accessMode: 'open' });
    const mac = '24:0A:C4:00:00:10';
    const key = '240ac4000010'; // as stored
    const stored = () => b.app.fleet.registry.get(key);
    const plan = ['1.0.0', '1.0.0', '1.0.0', '2.0.0', '2.0.0', '2.0.0', '2.0.0', '3.0.0', '3.0.0', '3.0.0', '3.0.0'];
    let lastCheckAt = 0;
    for (const [i, version] of plan.entries()) {
      const [here, there] = i % 2 === 0 ? [a, b] : [b, a];
      lastCheckAt = Date.now();
      expect(await check(here.url, 'Roam', mac, version)).toBe(304);
      await here.app.flushActivity();
      // The other instance learns the change from the notification, before the device's next check reaches it.
      const otherEntry = () => there.app.fleet.registry.get(key);
      await within(1_000, () => otherEntry()?.runningVersion === version).catch((e: unknown) => {
        throw new Error(`step ${i}: ${String(e)} ${JSON.stringify(otherEntry())}`);
      });
    }
    expect(stored()?.runningVersion).toBe('3.0.0');
    await a.app.flushActivity();
    await b.app.flushActivity();

    const [row] = await onDatabase<{ check_count: number; reported_version: string; last_seen_at: string }>(
      databaseUrl,
      'select check_count, reported_version, last_seen_at from devices where mac = $1',
      [key],
    );
    expect(row).toMatchObject({ check_count: plan.length, reported_version: '3.0.0' });
    expect(Number(row!.last_seen_at)).toBeGreaterThanOrEqual(lastCheckAt);
    const events = await onDatabase<{ type: string; from_version: string | null; to_version: string | null }>(
      databaseUrl,
      'select type, from_version, to_version from events where mac = $1 order by id',
      [key],
    );
    // One first-seen and one event per version change: neither instance took the device for new or changed again.
    expect(events).toEqual([
      { type: 'first-seen', from_version: null, to_version: '1.0.0' },
      { type: 'image-changed', from_version: '1.0.0', to_version: '2.0.0' },
      { type: 'image-changed', from_version: '2.0.0', to_version: '3.0.0' },
    ]);
  });
});

import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, type App } from '../src/compose.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp8266Request, rawRequest } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const v1 = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=1.0.0'] });
const v2 = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=2.0.0', 'more'.repeat(30)] });
const v3 = buildEsp8266App({ strings: ['ESP-OTA:platform=Porch;version=3.0.0', 'more'.repeat(60)] });
const macs = Array.from({ length: 60 }, (_, i) => `02:00:00:00:01:${i.toString(16).padStart(2, '0').toUpperCase()}`);

describeEachStore('rollouts over REST', (store) => {
  let t: TestApp;
  let url: string;
  let v2Id: number;
  const start = (body: unknown, platform = 'Porch') =>
    api<{ error?: string; message?: string; id: number; state: string }>(
      url,
      'POST',
      `/api/v1/platforms/${platform}/rollouts`,
      body,
    );

  beforeAll(async () => {
    t = await startTestApp(store, { rolloutMonitorMs: 3_600_000 });
    url = t.url;
    await api(url, 'POST', '/api/v1/platforms', { name: 'Porch', accessMode: 'open' });
    const first = await api<{ image: { id: number } }>(url, 'POST', '/api/v1/firmware', v1);
    await api(url, 'POST', `/api/v1/firmware/${first.json.image.id}/release`);
    // Kept, not released: v1 was released on purpose (pinned).
    v2Id = (await api<{ image: { id: number } }>(url, 'POST', '/api/v1/firmware', v2)).json.image.id;
    await api(url, 'POST', '/api/v1/firmware', v3);
    const fs = Buffer.alloc(16 * 1024, 0xff);
    fs.write('littlefs', 8, 'latin1');
    expect((await api(url, 'POST', '/api/v1/platforms/Porch/firmware?version=fs-1&label=true', fs)).status).toBe(201);
  });
  afterAll(() => t.stop());

  it('refuses what cannot be rolled out with a clear 4xx and starts nothing', async () => {
    const cases: [unknown, string | undefined, number, string][] = [
      [{ version: '2.0.0' }, 'Nope', 404, 'unknown-platform'],
      [{ version: '9.9.9' }, undefined, 404, 'unknown-image'],
      [{ version: '1.0.0' }, undefined, 409, 'image-released'],
      [{ version: 'fs-1' }, undefined, 422, 'wrong-kind'],
      [{ imageId: 999_999 }, undefined, 404, 'unknown-image'],
      [{}, undefined, 400, 'bad-request'],
      [{ version: '2.0.0', stages: [50, 10, 100] }, undefined, 400, 'bad-request'],
      [{ version: '2.0.0', stages: [10, 50] }, undefined, 400, 'bad-request'],
      [{ version: '2.0.0', canary: { macs: ['not-a-mac'] } }, undefined, 400, 'invalid-mac'],
      [{ version: '2.0.0', canary: { groups: ['lab'] } }, undefined, 400, 'bad-request'],
      [{ version: '2.0.0', policy: { failureRatio: 2 } }, undefined, 400, 'bad-request'],
      [{ version: '2.0.0', policy: { nonsense: 1 } }, undefined, 400, 'bad-request'],
    ];
    for (const [body, platform, status, error] of cases) {
      const response = await start(body, platform);
      expect([response.status, response.json.error], JSON.stringify(body)).toEqual([status, error]);
    }
    const list = await api<{ rollouts: unknown[] }>(url, 'GET', '/api/v1/platforms/Porch/rollouts');
    expect(list.json.rollouts).toEqual([]);
    expect((await api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/pause')).status).toBe(404);
  });

  it('runs one rollout per platform: a second start, even at the same moment, is a 409', async () => {
    const [a, b] = await Promise.all([start({ version: '2.0.0' }), start({ version: '2.0.0' })]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect((a.status === 409 ? a : b).json.error).toBe('rollout-active');
  });

  it("refuses to delete a running rollout's target: the rollout would be left with nothing to offer", async () => {
    const refused = await api<{ error: string; message: string }>(url, 'DELETE', `/api/v1/firmware/${v2Id}`);
    expect([refused.status, refused.json.error]).toEqual([409, 'image-in-rollout']);
    expect(refused.json.message).toMatch(/2\.0\.0.*rollout/);
    expect((await api(url, 'GET', `/api/v1/firmware/${v2Id}`)).status).toBe(200);
  });

  it('applies a transition once when two people who saw the same stage ask for it at the same moment', async () => {
    const [a, b] = await Promise.all([
      api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/advance', { stageIndex: 0 }),
      api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/advance', { stageIndex: 0 }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const list = await api<{ rollouts: { stageIndex: number; state: string }[] }>(
      url,
      'GET',
      '/api/v1/platforms/Porch/rollouts',
    );
    expect(list.json.rollouts[0]).toMatchObject({ stageIndex: 1, state: 'running' });
    expect((await api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/resume')).status).toBe(409);
    const paused = await api<{ pauseReason: string }>(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/pause', {
      reason: 'the lab board reboots',
    });
    expect(paused.json.pauseReason).toBe('the lab board reboots');
    expect((await api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/pause', [1])).status).toBe(400);
    expect((await api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/explode')).status).toBe(400);
    expect((await api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/abort')).status).toBe(200);
  });

  it('viewers read rollouts, only uploaders and admins steer them', async () => {
    const viewer = (await api<{ token: string }>(url, 'POST', '/api/v1/tokens', { name: 'wall', role: 'viewer' })).json
      .token;
    const as = (method: string, path: string) =>
      fetch(url + path, { method, headers: { authorization: `Bearer ${viewer}` } });
    expect((await as('GET', '/api/v1/platforms/Porch/rollouts')).status).toBe(200);
    expect((await as('POST', '/api/v1/platforms/Porch/rollouts')).status).toBe(403);
    expect((await as('POST', '/api/v1/platforms/Porch/rollouts/current/abort')).status).toBe(403);
  });

  it("applies the monitor's verdict once when two instances reach it at the same moment", async () => {
    const started = await start({ version: '2.0.0', stages: [10, 100] });
    const verdict = { action: 'pause' as const, why: 'too many failed' };
    const applied = await Promise.all([
      t.app.rollouts.applyVerdict(started.json.id, 0, verdict),
      t.app.rollouts.applyVerdict(started.json.id, 0, verdict),
    ]);
    expect(applied.sort()).toEqual([false, true]);
    // A verdict about a stage the rollout has left is dropped.
    await api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/resume');
    await api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/advance');
    expect(await t.app.rollouts.applyVerdict(started.json.id, 0, verdict)).toBe(false);
    const paused = await api<{ events: unknown[] }>(url, 'GET', '/api/v1/events?platform=Porch&type=rollout-paused');
    expect(paused.json.events.filter((e) => (e as { actor: string }).actor === 'monitor')).toHaveLength(1);
    expect((await api(url, 'POST', '/api/v1/platforms/Porch/rollouts/current/abort')).status).toBe(200);
  });

  it('a restart in the middle of a rollout loses no state and changes no device answer', async () => {
    const started = await start({ version: '3.0.0', stages: [50, 100] });
    expect(started.status).toBe(201);
    const host = new URL(url).host;
    const poll = (base: string, mac: string, image: Buffer, version: string) =>
      rawRequest(base, esp8266Request(host, '/update?dev=Porch', { mac, version, sketchMd5: md5(image) }));
    const before = new Map<string, string>();
    for (const mac of macs) {
      const r = await poll(url, mac, v1, '1.0.0');
      before.set(mac, `${r.status} ${r.headers.get('x-ota-reason')?.[0]}`);
    }
    const admitted = macs.filter((mac) => before.get(mac)!.startsWith('200'));
    expect(admitted.length).toBeGreaterThan(15);
    expect(admitted.length).toBeLessThan(45);
    for (const mac of admitted.slice(0, 10)) await poll(url, mac, v3, '3.0.0');
    await t.app.flushActivity();
    await t.app.fleet.monitorPass();
    const counted = (app: App) => app.fleet.rolloutDevices(started.json.id);
    const countsBefore = counted(t.app);

    await t.app.close();
    const app = await createApp(t.app.config, { logger: pino({ level: 'silent' }) });
    try {
      const again = await app.listen();
      await app.fleet.start();
      await app.fleet.monitorPass();
      expect(counted(app)).toEqual(countsBefore);
      expect(countsBefore).toMatchObject({ updated: 10, offered: admitted.length - 10 });
      const list = await api<{ rollouts: { id: number; state: string; percent: number }[] }>(
        again,
        'GET',
        '/api/v1/platforms/Porch/rollouts',
      );
      expect(list.json.rollouts[0]).toMatchObject({ id: started.json.id, state: 'running', percent: 50 });
      for (const mac of macs) {
        const updated = admitted.slice(0, 10).includes(mac);
        const r = await poll(again, mac, updated ? v3 : v1, updated ? '3.0.0' : '1.0.0');
        const answer = `${r.status} ${r.headers.get('x-ota-reason')?.[0]}`;
        expect(answer, mac).toBe(updated ? '304 current' : before.get(mac));
      }
    } finally {
      await app.close();
    }
  });
});

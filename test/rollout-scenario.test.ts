import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutBucket } from '../src/features/rollouts/rollout-bucket.js';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp32Request, esp8266Request, rawRequest, type RawResponse } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Issue 12 §5: a staged rollout end to end over real HTTP, with the byte-exact requests of the stock ESP8266 and
 * ESP32 clients (protocol.md §1). 200 devices on v1; v2 at 10 %; the admitted devices update, five keep reporting
 * v1 and fail; the rollout pauses itself; resumed and advanced to 100 % every device that did not fail gets v2
 * exactly once; abort leaves updated devices alone, "roll back" offers them v1 again.
 */
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const DEVICES = 200;
const TOKEN_ACTOR = 'token:ESP_OTA_API_TOKEN';

interface Family {
  name: 'esp8266' | 'esp32';
  platform: string;
  v1: Buffer;
  v2: Buffer;
  request(
    host: string,
    uri: string,
    facts: { mac: string; version: string; sketchMd5: string; sketchSize: number },
  ): string;
}

const families: Family[] = [
  {
    name: 'esp8266',
    platform: 'Meter',
    v1: buildEsp8266App({ strings: ['ESP-OTA:platform=Meter;version=1.0.0'] }),
    v2: buildEsp8266App({ strings: ['ESP-OTA:platform=Meter;version=2.0.0', 'new code'.repeat(40)] }),
    request: esp8266Request,
  },
  {
    name: 'esp32',
    platform: 'Gate',
    v1: buildEsp32App({ descriptor: { projectName: 'Gate', version: '1.0.0' } }),
    v2: buildEsp32App({ descriptor: { projectName: 'Gate', version: '2.0.0' }, rodata: 'new code'.repeat(40) }),
    request: esp32Request,
  },
];

const macOf = (i: number) =>
  `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`.toUpperCase();
const keyOf = (mac: string) => mac.replace(/:/g, '').toLowerCase();

interface Rollout {
  id: number;
  state: string;
  percent: number;
  pauseReason: string | null;
  devices?: Record<string, number>;
}

describeEachStore('staged rollout scenario', (store) => {
  describe.each(families)('$name devices', (family) => {
    let t: TestApp;
    let host: string;
    const macs = Array.from({ length: DEVICES }, (_, i) => macOf(i + 1));
    /** What each device runs, and how many times it was sent the v2 image. */
    const running = new Map(macs.map((mac) => [mac, 'v1' as 'v1' | 'v2']));
    const servedV2 = new Map(macs.map((mac) => [mac, 0]));
    let rolloutId: number;
    let admitted: string[];
    let bad: string[];
    let late: string[];
    let good: string[];

    const poll = async (mac: string, runs = running.get(mac)!): Promise<RawResponse> => {
      const image = runs === 'v1' ? family.v1 : family.v2;
      const request = family.request(host, `/update?dev=${family.platform}`, {
        mac,
        version: runs === 'v1' ? '1.0.0' : '2.0.0',
        sketchMd5: md5(image),
        sketchSize: image.length,
      });
      const response = await rawRequest(t.url, request);
      if (response.status === 200 && Buffer.compare(response.body, family.v2) === 0)
        servedV2.set(mac, servedV2.get(mac)! + 1);
      return response;
    };
    /** Polls in parallel, a few at a time, as a fleet does. */
    const pollAll = async (list: string[], runs?: 'v1' | 'v2') => {
      const answers = new Map<string, RawResponse>();
      for (let i = 0; i < list.length; i += 20)
        await Promise.all(list.slice(i, i + 20).map(async (mac) => answers.set(mac, await poll(mac, runs))));
      return answers;
    };
    const reason = (r: RawResponse) => r.headers.get('x-ota-reason')?.[0];
    const current = async () =>
      (await api<{ rollouts: Rollout[] }>(t.url, 'GET', `/api/v1/platforms/${family.platform}/rollouts`)).json
        .rollouts[0]!;
    const act = (action: string) =>
      api<Rollout>(t.url, 'POST', `/api/v1/platforms/${family.platform}/rollouts/current/${action}`);
    const settle = async () => {
      await t.app.view.all();
      await t.app.fleet.settled();
    };

    beforeAll(async () => {
      t = await startTestApp(store, { rolloutMonitorMs: 3_600_000, metricsToken: 'scrape-token' });
      host = new URL(t.url).host;
      await api(t.url, 'POST', '/api/v1/platforms', { name: family.platform, accessMode: 'open' });
      const v1 = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', family.v1);
      expect(v1.status).toBe(201);
      // Released on purpose (pinned), so the v2 upload is kept, not released.
      expect((await api(t.url, 'POST', `/api/v1/firmware/${v1.json.image.id}/release`)).status).toBe(200);
      expect((await api(t.url, 'POST', '/api/v1/firmware', family.v2)).status).toBe(201);
    });
    afterAll(() => t.stop());

    it('200 devices on v1 are current before the rollout', async () => {
      const answers = await pollAll(macs);
      expect([...answers.values()].every((r) => r.status === 304 && reason(r) === 'current')).toBe(true);
    });

    it('at 10 %, about 20 devices (exactly those whose bucket is admitted) get v2, the rest 304 rollout-pending', async () => {
      const started = await api<Rollout>(t.url, 'POST', `/api/v1/platforms/${family.platform}/rollouts`, {
        version: '2.0.0',
        stages: [10, 50, 100],
        policy: { maxAttempts: 2, failAfterChecks: 3, failureMin: 3, failureRatio: 0.1 },
      });
      expect(started.status).toBe(201);
      expect(started.json).toMatchObject({ state: 'running', percent: 10 });
      rolloutId = started.json.id;
      admitted = macs.filter((mac) => rolloutBucket(rolloutId, keyOf(mac)) < 1000);
      expect(admitted.length).toBeGreaterThanOrEqual(12);
      expect(admitted.length).toBeLessThanOrEqual(30);
      late = admitted.slice(0, 3);
      bad = admitted.slice(3, 8);
      good = admitted.slice(8);

      const answers = await pollAll(macs.filter((mac) => !late.includes(mac)));
      for (const [mac, response] of answers) {
        if (admitted.includes(mac)) {
          expect(response.status, mac).toBe(200);
          expect(Buffer.compare(response.body, family.v2)).toBe(0);
          expect(response.headers.get('x-md5')).toEqual([md5(family.v2)]);
        } else {
          expect([response.status, reason(response)], mac).toEqual([304, 'rollout-pending']);
        }
      }
    });

    it('devices that then report v2 are updated; five that keep reporting v1 fail, and the rollout pauses itself', async () => {
      for (const mac of good) running.set(mac, 'v2');
      const updated = await pollAll(good);
      expect([...updated.values()].every((r) => r.status === 304 && reason(r) === 'current')).toBe(true);
      // Still on v1 after the download: sent it once more (attempt 2 of 2), then judged failed.
      const again = await pollAll(bad);
      expect([...again.values()].map((r) => r.status)).toEqual(bad.map(() => 200));
      const last = await pollAll(bad);
      expect([...last.values()].map(reason)).toEqual(bad.map(() => 'rollout-failed'));

      await t.app.fleet.monitorPass();
      const rollout = await current();
      expect(rollout.state).toBe('paused');
      expect(rollout.pauseReason).toMatch(/^5 of \d+ devices .* failed or went silent/);
      expect(rollout.devices).toMatchObject({ updated: good.length, failed: 5, pending: DEVICES - admitted.length });
      const events = await api<{ events: { type: string; actor: string; reason: string }[] }>(
        t.url,
        'GET',
        `/api/v1/events?platform=${family.platform}&type=rollout-paused`,
      );
      expect(events.json.events).toHaveLength(1);
      expect(events.json.events[0]).toMatchObject({ actor: 'monitor', reason: rollout.pauseReason });

      const metrics = await (
        await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer scrape-token' } })
      ).text();
      const p = family.platform;
      expect(metrics).toContain(`esp_ota_rollout_state{platform="${p}",state="paused"} 1`);
      expect(metrics).toContain(`esp_ota_rollout_state{platform="${p}",state="running"} 0`);
      expect(metrics).toContain(`esp_ota_rollout_stage_percent{platform="${p}"} 10`);
      expect(metrics).toContain(`esp_ota_rollout_devices{platform="${p}",state="failed"} 5`);
      expect(metrics).toContain(`esp_ota_rollout_devices{platform="${p}",state="updated"} ${good.length}`);
    });

    it('while paused no new device gets v2, updated devices stay on it, and it cannot advance', async () => {
      const lateAnswers = await pollAll(late);
      expect([...lateAnswers.values()].map(reason)).toEqual(late.map(() => 'rollout-paused'));
      const goodAnswers = await pollAll(good);
      expect([...goodAnswers.values()].every((r) => r.status === 304 && reason(r) === 'current')).toBe(true);
      const pending = await pollAll(macs.filter((mac) => !admitted.includes(mac)).slice(0, 40));
      expect([...pending.values()].every((r) => reason(r) === 'rollout-pending')).toBe(true);
      expect((await act('advance')).status).toBe(409);
    });

    it('resumed, it does not pause again for failures already seen; at 100 % every device that did not fail gets v2 exactly once', async () => {
      expect((await act('resume')).json.state).toBe('running');
      await t.app.fleet.monitorPass();
      expect((await current()).state).toBe('running');
      expect((await act('advance')).json.percent).toBe(50);
      expect((await act('advance')).json.percent).toBe(100);

      const answers = await pollAll(macs);
      for (const [mac, response] of answers) {
        if (bad.includes(mac)) expect(reason(response), mac).toBe('rollout-failed');
        else if (good.includes(mac)) expect(reason(response), mac).toBe('current');
        else {
          expect(response.status, mac).toBe(200);
          running.set(mac, 'v2');
        }
      }
      const after = await pollAll(macs);
      expect([...after.values()].filter((r) => r.status === 200)).toHaveLength(0);
      for (const mac of macs) expect(servedV2.get(mac), mac).toBe(bad.includes(mac) ? 2 : 1);

      await t.app.flushActivity();
      await settle();
      expect(t.app.fleet.registry.get(keyOf(good[0]!))?.status).toBe('current');
    });

    it('abort leaves updated devices on v2 (device-newer, status "newer"); roll back offers them v1', async () => {
      const aborted = await act('abort');
      expect(aborted.json.state).toBe('aborted');
      await settle();
      const metrics = await (
        await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer scrape-token' } })
      ).text();
      expect(metrics).not.toContain(`esp_ota_rollout_state{platform="${family.platform}"`);
      expect(t.app.fleet.registry.get(keyOf(good[0]!))?.status).toBe('newer');
      expect(t.app.fleet.registry.get(keyOf(bad[0]!))?.status).toBe('current');
      const onV2 = await poll(good[0]!);
      expect([onV2.status, reason(onV2)]).toEqual([304, 'device-newer']);
      const onV1 = await poll(bad[0]!);
      expect([onV1.status, reason(onV1)]).toEqual([304, 'current']);

      const rolledBack = await act('rollback');
      expect(rolledBack.status).toBe(200);
      const back = await poll(good[1]!);
      expect([back.status, reason(back)]).toEqual([200, 'rollback']);
      expect(Buffer.compare(back.body, family.v1)).toBe(0);
      const types = ['started', 'paused', 'resumed', 'advanced', 'aborted', 'rolled-back'].map((s) => `rollout-${s}`);
      const transitions: { id: number; type: string; actor: string }[] = [];
      for (const type of types) {
        const events = await api<{ events: { id: number; type: string; actor: string }[] }>(
          t.url,
          'GET',
          `/api/v1/events?platform=${family.platform}&type=${type}`,
        );
        transitions.push(...events.json.events);
      }
      transitions.sort((a, b) => b.id - a.id);
      expect(transitions.map((e) => [e.type, e.actor]).reverse()).toEqual([
        ['rollout-started', TOKEN_ACTOR],
        ['rollout-paused', 'monitor'],
        ['rollout-resumed', TOKEN_ACTOR],
        ['rollout-advanced', TOKEN_ACTOR],
        ['rollout-advanced', TOKEN_ACTOR],
        ['rollout-aborted', TOKEN_ACTOR],
        ['rollout-rolled-back', TOKEN_ACTOR],
      ]);
    });

    it('a rollout that completes moves the release to its image', async () => {
      const started = await api<Rollout>(t.url, 'POST', `/api/v1/platforms/${family.platform}/rollouts`, {
        version: '2.0.0',
        stages: [100],
      });
      expect(started.status).toBe(201);
      expect((await act('advance')).json.state).toBe('completed');
      const platform = await api<{ releasedAppId: number }>(t.url, 'GET', `/api/v1/platforms/${family.platform}`);
      const images = await api<{ images: { id: number; version: string }[] }>(
        t.url,
        'GET',
        `/api/v1/platforms/${family.platform}/firmware`,
      );
      expect(images.json.images.find((i) => i.id === platform.json.releasedAppId)?.version).toBe('2.0.0');
      const response = await poll(bad[0]!, 'v1');
      expect([response.status, reason(response)]).toEqual([200, 'newer-version']);
    });
  });
});

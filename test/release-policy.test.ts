import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirmwareService } from '../src/features/firmware/firmware-service.js';
import { systemClock } from '../src/lib/clock.js';
import { DomainError } from '../src/lib/domain-error.js';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { api, esp8266Request, loginSession, rawRequest } from './helpers/http.js';
import { CORPUS_AVAILABLE, CORPUS_SKIP_REASON, readFirmware } from './helpers/firmware-corpus.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

interface UploadAnswer {
  image: { id: number; version: string; identitySource: string | null };
  released: boolean;
  release: { code: string; reason: string };
}
interface Refusal {
  error: string;
  message: string;
}

/** Issue 12 §1: an upload is released by itself only when it is certain; some uploads are refused outright. */
describeEachStore('release policy and certain uploads', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store);
  });
  afterAll(() => t.stop());

  const upload = (platform: string, bytes: Uint8Array, query = '') =>
    api<UploadAnswer & Refusal>(
      t.url,
      'POST',
      `/api/v1/platforms/${encodeURIComponent(platform)}/firmware${query}`,
      bytes,
    );
  const imageCount = async (platform: string) =>
    (await api<{ images: unknown[] }>(t.url, 'GET', `/api/v1/platforms/${encodeURIComponent(platform)}/firmware`)).json
      .images.length;
  const blobCount = async () => (await t.app.blobs.list()).length;
  const events = async (platform: string, type: string) =>
    (
      await api<{ events: { type: string; actor: string; decision: string; reason: string; detail: string }[] }>(
        t.url,
        'GET',
        `/api/v1/events?platform=${encodeURIComponent(platform)}&type=${type}`,
      )
    ).json.events;
  const esp32 = (project: string, version: string) => buildEsp32App({ descriptor: { projectName: project, version } });

  it('releases an app whose descriptor names the platform (any case) and orders above the released one', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Garden-Pump', accessMode: 'open' });
    // Normalisation: case and the separators - _ . and space do not count, so garden_pump names Garden-Pump.
    const first = await upload('Garden-Pump', esp32('garden_pump', '1.0.0'));
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ released: true, release: { code: 'certain' } });
    const newer = await upload('Garden-Pump', esp32('GARDEN-PUMP', 'v1.1.0'));
    expect(newer.json).toMatchObject({ released: true, release: { code: 'certain' } });
    const older = await upload('Garden-Pump', esp32('garden-pump', '1.0.5'));
    expect(older.status).toBe(201);
    expect(older.json).toMatchObject({ released: false, release: { code: 'not-newer' } });
    expect(older.json.release.reason).toContain('v1.1.0');
    const platform = (await api<{ releasedAppId: number }>(t.url, 'GET', '/api/v1/platforms/Garden-Pump')).json;
    expect(platform.releasedAppId).toBe(newer.json.image.id);
    const kept = (await events('Garden-Pump', 'upload')).find((e) => e.decision === 'kept');
    expect(kept).toMatchObject({ reason: 'not-newer', actor: 'token:ESP_OTA_API_TOKEN' });
  });

  it('keeps a certain upload while a rollout runs: nothing reaches the whole fleet around the rollout', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Staged', accessMode: 'open' });
    const first = await upload('Staged', esp32('staged', '1.0.0'));
    expect(first.json).toMatchObject({ released: true });
    await api(t.url, 'PATCH', '/api/v1/platforms/Staged', { releasePolicy: 'manual' });
    expect((await upload('Staged', esp32('staged', '1.1.0'))).json).toMatchObject({ released: false });
    await api(t.url, 'PATCH', '/api/v1/platforms/Staged', { releasePolicy: 'auto' });
    expect((await api(t.url, 'POST', '/api/v1/platforms/Staged/rollouts', { version: '1.1.0' })).status).toBe(201);
    const during = await upload('Staged', esp32('staged', '1.2.0'));
    expect(during.status).toBe(201);
    expect(during.json).toMatchObject({ released: false, release: { code: 'rollout-running' } });
    const platform = (await api<{ releasedAppId: number }>(t.url, 'GET', '/api/v1/platforms/Staged')).json;
    expect(platform.releasedAppId).toBe(first.json.image.id);
  });

  it('treats our marker and the original server’s compiled update URL as certain', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Plug', accessMode: 'open' });
    const marked = await upload('Plug', buildEsp8266App({ strings: ['ESP-OTA:platform=Plug;version=2.0.0'] }));
    expect(marked.json).toMatchObject({ released: true, release: { code: 'certain' }, image: { version: '2.0.0' } });
    const url = buildEsp8266App({ strings: ['http://ota.example/update.php?dev=Plug&ver=2.1.0'] });
    expect((await upload('Plug', url)).json).toMatchObject({ released: true, image: { version: '2.1.0' } });
    // The same version given by the uploader as well is still the image's own statement.
    const both = buildEsp8266App({ strings: ['ESP-OTA:platform=Plug;version=2.2.0'] });
    expect((await upload('Plug', both, '?version=2.2.0')).json).toMatchObject({ released: true });
  });

  it('keeps an upload whose version the uploader gave, says why, and a person releases it (actor recorded)', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Sensor', accessMode: 'open' });
    const given = await upload('Sensor', buildEsp8266App({ strings: ['plain sketch'] }), '?version=1.0.0');
    expect(given.status).toBe(201);
    expect(given.json).toMatchObject({ released: false, release: { code: 'version-given' } });
    expect(given.json.release.reason).toMatch(/given by the uploader/);
    expect(
      (await api<{ releasedAppId: number | null }>(t.url, 'GET', '/api/v1/platforms/Sensor')).json.releasedAppId,
    ).toBe(null);
    const released = await api(t.url, 'POST', `/api/v1/firmware/${given.json.image.id}/release`);
    expect(released).toMatchObject({ status: 200, json: { releasedAppId: given.json.image.id } });
    expect((await events('Sensor', 'release'))[0]).toMatchObject({ actor: 'token:ESP_OTA_API_TOKEN' });
    // Asking for the release in the upload itself is a person's release too.
    const now = await upload('Sensor', buildEsp8266App({ strings: ['other sketch'] }), '?version=0.9.0&release=true');
    expect(now.json).toMatchObject({ released: true, release: { code: 'released-by-uploader' } });
  });

  it('refuses an explicit version outside the grammar unless it is marked as a label; nothing is kept', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Labelled', accessMode: 'open' });
    const bytes = buildEsp8266App({ strings: ['labelled sketch'] });
    const blobs = await blobCount();
    const refused = await upload('Labelled', bytes, `?version=${encodeURIComponent('not a version!!')}`);
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ error: 'invalid-version' });
    expect(refused.json.message).toMatch(/label=true/);
    expect(await imageCount('Labelled')).toBe(0);
    expect(await blobCount()).toBe(blobs);
    const label = await upload('Labelled', bytes, `?version=${encodeURIComponent('build 7 (lab)')}&label=true`);
    expect(label.status).toBe(201);
    expect(label.json).toMatchObject({ released: false, release: { code: 'version-given' } });
  });

  it('refuses identical bytes under another version of the platform (409 naming it); nothing is kept', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Twice', accessMode: 'open' });
    const bytes = buildEsp8266App({ strings: ['ESP-OTA:platform=Twice;version=3.0.0'] });
    expect((await upload('Twice', bytes)).status).toBe(201);
    const blobs = await blobCount();
    const again = await upload('Twice', bytes, `?version=${encodeURIComponent('not a version!!')}&label=true`);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: 'duplicate-image' });
    expect(again.json.message).toContain('3.0.0');
    expect((await upload('Twice', bytes, '?version=3.0.1')).status).toBe(409);
    expect(await imageCount('Twice')).toBe(1);
    expect(await blobCount()).toBe(blobs);
  });

  it('refuses a descriptor project that contradicts the platform unless forced, then keeps it unreleased', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Boiler', accessMode: 'open' });
    const first = await upload('Boiler', esp32('boiler', '1.0.0'));
    expect(first.json.released).toBe(true);
    const blobs = await blobCount();
    const other = esp32('simple_ota', '2.0.0');
    const refused = await upload('Boiler', other);
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: 'project-mismatch' });
    expect(refused.json.message).toContain('simple_ota');
    expect(refused.json.message).toContain('Boiler');
    expect(refused.json.message).toContain('force=true');
    expect(await imageCount('Boiler')).toBe(1);
    expect(await blobCount()).toBe(blobs);
    const forced = await upload('Boiler', other, '?force=true');
    expect(forced.status).toBe(201);
    expect(forced.json).toMatchObject({ released: false, release: { code: 'project-forced' } });
  });

  it('lets Arduino-ESP32 sketches (the core’s descriptor) through: only the sketch’s marker counts', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Clock', accessMode: 'open' });
    const sketch = buildEsp32App({
      descriptor: { projectName: 'arduino-lib-builder', version: 'esp-idf: v4.4.4 e8bdaf9198' },
      rodata: '\0ESP-OTA:platform=Clock;version=1.4.0\0',
    });
    expect((await upload('Clock', sketch)).json).toMatchObject({ released: true, image: { version: '1.4.0' } });
  });

  it('keeps an unorderable descriptor version', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Hashy', accessMode: 'open' });
    const answer = await upload('Hashy', esp32('hashy', '3d4085c-dirty'));
    expect(answer.json).toMatchObject({ released: false, release: { code: 'version-unorderable' } });
  });

  it('sets the release policy, rollout template and update window by PATCH, recorded with the actor', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Policy', accessMode: 'open' });
    expect((await api(t.url, 'GET', '/api/v1/platforms/Policy')).json).toMatchObject({
      releasePolicy: 'auto',
      rolloutTemplate: null,
      updateWindow: null,
    });
    const patched = await api(t.url, 'PATCH', '/api/v1/platforms/Policy', {
      releasePolicy: 'manual',
      rolloutTemplate: { stages: [5, 25, 100], policy: { failureRatio: 0.1, minDevices: 3 } },
      updateWindow: { from: '22:00', to: '05:00', timeZone: 'Europe/Berlin' },
    });
    expect(patched).toMatchObject({
      status: 200,
      json: {
        releasePolicy: 'manual',
        rolloutTemplate: { stages: [5, 25, 100], policy: { failureRatio: 0.1, minDevices: 3 } },
        updateWindow: { from: '22:00', to: '05:00', timeZone: 'Europe/Berlin' },
      },
    });
    const updated = (await events('Policy', 'platform-updated'))[0]!;
    expect(updated.actor).toBe('token:ESP_OTA_API_TOKEN');
    expect(updated.detail).toContain('releasePolicy: auto → manual');
    const kept = await upload('Policy', esp32('policy', '1.0.0'));
    expect(kept.json).toMatchObject({ released: false, release: { code: 'policy-manual' } });

    // `rollout`: a certain upload starts a rollout from the platform's template (the server's own engine).
    await api(t.url, 'PATCH', '/api/v1/platforms/Policy', { releasePolicy: 'rollout' });
    const rollout = await upload('Policy', esp32('policy', '1.1.0'));
    expect(rollout.json).toMatchObject({ released: false, release: { code: 'rollout-started' } });
    const started = await api<{ rollouts: { state: string; targetVersion: string; stages: number[] }[] }>(
      t.url,
      'GET',
      '/api/v1/platforms/Policy/rollouts',
    );
    expect(started.json.rollouts[0]).toMatchObject({ state: 'running', targetVersion: '1.1.0', stages: [5, 25, 100] });
    // null clears the template and the window.
    const cleared = await api(t.url, 'PATCH', '/api/v1/platforms/Policy', {
      rolloutTemplate: null,
      updateWindow: null,
    });
    expect(cleared.json).toMatchObject({ rolloutTemplate: null, updateWindow: null, releasePolicy: 'rollout' });
  });

  it('starts a rollout for a certain upload under `rollout` through the injected engine, after the upload is kept', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Rolling', accessMode: 'open', releasePolicy: 'rollout' });
    const calls: [string, number, string, number][] = [];
    const firmware = new FirmwareService(
      t.app.catalogue,
      t.app.blobs,
      systemClock,
      1 << 20,
      () => undefined,
      undefined,
      {
        startRollout: async (platformName, imageId, actor) => {
          // The image is committed before the engine is asked: it can read it in its own transaction.
          const image = await t.app.catalogue.stores.images.findById(imageId);
          calls.push([platformName, imageId, actor, image ? 1 : 0]);
        },
      },
    );
    const certain = await firmware.upload(Readable.from([esp32('rolling', '1.0.0')]), {
      actor: 'alice',
      platform: 'Rolling',
    });
    expect(certain).toMatchObject({ released: false, release: { code: 'rollout-started' } });
    expect(calls).toEqual([['Rolling', certain.image.id, 'alice', 1]]);
    // An uncertain upload starts nothing.
    const given = await firmware.upload(Readable.from([esp32('rolling', '1.1.0')]), {
      actor: 'alice',
      platform: 'Rolling',
      version: '1.1.1',
    });
    expect(given.release.code).toBe('version-given');
    expect(calls).toHaveLength(1);
    // The engine refusing (say, a rollout already runs) keeps the image and says why.
    const refusing = new FirmwareService(
      t.app.catalogue,
      t.app.blobs,
      systemClock,
      1 << 20,
      () => undefined,
      undefined,
      {
        startRollout: () => Promise.reject(new DomainError('bad-request', 'a rollout is already running')),
      },
    );
    const kept = await refusing.upload(Readable.from([esp32('rolling', '1.2.0')]), {
      actor: 'bob',
      platform: 'Rolling',
    });
    expect(kept.release).toMatchObject({ code: 'rollout-failed' });
    expect(kept.release.reason).toContain('a rollout is already running');
  });

  it.each([
    [{ releasePolicy: 'sometimes' }, /releasePolicy/],
    [{ rolloutTemplate: { stages: [10, 5, 100] } }, /increase/],
    [{ rolloutTemplate: { stages: [0.5, 100] } }, /whole/],
    [{ rolloutTemplate: { stages: [10, 50] } }, /last stage/],
    [{ rolloutTemplate: { stages: [] } }, /stages/],
    [{ rolloutTemplate: { policy: { failureRatio: 2 } } }, /failureRatio/],
    [{ rolloutTemplate: { policy: { soakMinutes: 2 } } }, /soakMinutes/],
    [{ rolloutTemplate: { stages: [10, 100], other: 1 } }, /./],
    [{ updateWindow: { from: '25:00', to: '05:00', timeZone: 'UTC' } }, /HH:MM/],
    [{ updateWindow: { from: '01:00', to: '05:00', timeZone: 'Mars/Olympus' } }, /time zone/],
  ])('refuses the platform setting %j with a clear 400', async (body, message) => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Strict' });
    const answer = await api<Refusal>(t.url, 'PATCH', '/api/v1/platforms/Strict', body);
    expect(answer.status).toBe(400);
    expect(answer.json.message).toMatch(message);
    expect((await api(t.url, 'GET', '/api/v1/platforms/Strict')).json).toMatchObject({
      releasePolicy: 'auto',
      rolloutTemplate: null,
    });
  });
});

describeEachStore('release policy in the pages', (store) => {
  let t: TestApp;
  let session: { cookie: string; csrf: string };
  beforeAll(async () => {
    t = await startTestApp(store);
    session = await loginSession(t.url);
  });
  afterAll(() => t.stop());
  const form = (path: string, fields: Record<string, string>) =>
    fetch(t.url + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: session.csrf, ...fields }),
    });
  const page = async (path: string) => (await fetch(t.url + path, { headers: { cookie: session.cookie } })).text();
  const settings = {
    accessMode: 'open',
    chip: '',
    deviceAuth: 'off',
    deviceUser: '',
    releasePolicy: 'manual',
    rolloutTemplate: '{"stages":[10,100],"policy":{"minDevices":2}}',
    windowFrom: '01:00',
    windowTo: '04:30',
    windowTimeZone: 'Europe/Berlin',
  };

  it('sets the release policy, template and window in the settings form, and refuses a bad template', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Porch' });
    expect((await form('/platforms/Porch/settings', settings)).status).toBe(303);
    expect((await api(t.url, 'GET', '/api/v1/platforms/Porch')).json).toMatchObject({
      releasePolicy: 'manual',
      rolloutTemplate: { stages: [10, 100], policy: { minDevices: 2 } },
      updateWindow: { from: '01:00', to: '04:30', timeZone: 'Europe/Berlin' },
    });
    const html = await page('/platforms/Porch');
    expect(html).toContain('Uploads are kept until a person releases them.');
    expect(html).toMatch(/<option value="manual" selected/);
    const bad = await form('/platforms/Porch/settings', { ...settings, rolloutTemplate: '{"stages":[50,10]}' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('stage percentages must increase');
    const event = (
      await api<{ events: { actor: string; detail: string }[] }>(
        t.url,
        'GET',
        '/api/v1/events?platform=Porch&type=platform-updated',
      )
    ).json.events[0]!;
    expect(event).toMatchObject({ actor: 'admin' });
    expect(event.detail).toContain('releasePolicy: auto → manual');
  });

  it('says why an upload was kept, shows the evidence, and offers the release with who will move', async () => {
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Hall', accessMode: 'open' });
    const first = buildEsp8266App({ strings: ['ESP-OTA:platform=Hall;version=1.0.0'] });
    expect((await api(t.url, 'POST', '/api/v1/platforms/Hall/firmware', first)).json).toMatchObject({ released: true });
    // Three boards run 1.0.0, one reports nothing.
    const host = new URL(t.url).host;
    for (const [i, version] of ['1.0.0', '1.0.0', '1.0.0', undefined].entries()) {
      const mac = `5C:CF:7F:00:00:0${i}`;
      const uri = version ? `/update?dev=Hall&ver=${version}` : '/update?dev=Hall';
      expect((await rawRequest(t.url, esp8266Request(host, uri, { mac, version }))).status).toBeLessThan(400);
    }
    const body = new FormData();
    body.append('version', '1.1.0');
    body.append('file', new Blob([new Uint8Array(buildEsp8266App({ strings: ['hall sketch 2'] }))]), 'hall.bin');
    body.append('platform', 'Hall');
    const uploaded = await fetch(`${t.url}/upload?_csrf=${encodeURIComponent(session.csrf)}`, {
      method: 'POST',
      headers: { cookie: session.cookie },
      body,
    });
    expect(uploaded.status).toBe(201);
    const html = await uploaded.text();
    expect(html).toContain('Hall 1.1.0 uploaded, not released.');
    expect(html).toContain('given by the uploader');
    expect(html).toContain('data-release-code="version-given"');
    expect(html).toContain('Version from: given by the uploader');
    expect(html).toContain('4 devices will move from 1.0.0 (3), an unknown version (1) to 1.1.0.');
    const id = /action="\/platforms\/Hall\/images\/(\d+)\/release"/.exec(html)![1]!;
    // The platform page offers the same confirmation, unfolded when asked for by the upload's link.
    const platformPage = await page(`/platforms/Hall?release=${id}`);
    expect(platformPage).toMatch(new RegExp(`<details class="inline release-confirm" id="release-${id}" open`));
    expect(platformPage).toContain('4 devices will move from 1.0.0 (3), an unknown version (1) to 1.1.0.');
    expect((await form(`/platforms/Hall/images/${id}/release`, {})).status).toBe(303);
    expect((await api<{ releasedAppId: number }>(t.url, 'GET', '/api/v1/platforms/Hall')).json.releasedAppId).toBe(
      Number(id),
    );
    const release = (
      await api<{ events: { actor: string; toVersion: string }[] }>(
        t.url,
        'GET',
        '/api/v1/events?platform=Hall&type=release',
      )
    ).json.events[0];
    expect(release).toMatchObject({ actor: 'admin', toVersion: '1.1.0' });
  });
});

describe.skipIf(!CORPUS_AVAILABLE)(
  `the issue's repro cases with real images ${CORPUS_AVAILABLE ? '' : CORPUS_SKIP_REASON}`,
  () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp('sqlite');
    });
    afterAll(() => t.stop());
    const upload = (platform: string, file: string, query = '') =>
      api<UploadAnswer & Refusal>(t.url, 'POST', `/api/v1/platforms/${platform}/firmware${query}`, readFirmware(file));

    it('refuses simple_ota (3d4085c-dirty) onto OpenDTU; forced, it is kept and not released over OpenDTU', async () => {
      await api(t.url, 'POST', '/api/v1/platforms', { name: 'OpenDTU', accessMode: 'open' });
      const dtu = await upload(
        'OpenDTU',
        'eu-gh__OpenDTU-OnBattery-FwBuilds__firmware.bin',
        '?version=v23.9.18-21-g66af0e6',
      );
      expect(dtu.json).toMatchObject({ released: false, release: { code: 'version-given' } });
      await api(t.url, 'POST', `/api/v1/firmware/${dtu.json.image.id}/release`);
      const refused = await upload('OpenDTU', 'TiagoRueda__OTA-GITHUB-ESP32__simple_ota.bin');
      expect(refused.status).toBe(409);
      expect(refused.json.error).toBe('project-mismatch');
      const forced = await upload('OpenDTU', 'TiagoRueda__OTA-GITHUB-ESP32__simple_ota.bin', '?force=true');
      expect(forced.json).toMatchObject({ released: false, image: { version: '3d4085c-dirty' } });
      const platform = (await api<{ releasedAppId: number }>(t.url, 'GET', '/api/v1/platforms/OpenDTU')).json;
      expect(platform.releasedAppId).toBe(dtu.json.image.id);
    });

    it('keeps HASPone, whose version was read from its MQTT model string, unreleased', async () => {
      await api(t.url, 'POST', '/api/v1/platforms', { name: 'HASPone', accessMode: 'open' });
      const answer = await upload('HASPone', 'HASwitchPlate__HASPone__HASwitchPlate.ino.d1_mini.bin');
      expect(answer.status).toBe(201);
      expect(answer.json).toMatchObject({
        released: false,
        image: { version: 'v1.0.0', identitySource: 'next-to-platform' },
        release: { code: 'version-inferred' },
      });
      expect(answer.json.release.reason).toContain('HASPone v1.0.0');
    });

    it('refuses the same bytes again as --version "not a version!!"', async () => {
      const bad = await upload(
        'HASPone',
        'HASwitchPlate__HASPone__HASwitchPlate.ino.d1_mini.bin',
        '?version=not%20a%20version!!',
      );
      expect(bad).toMatchObject({ status: 400, json: { error: 'invalid-version' } });
      const label = await upload(
        'HASPone',
        'HASwitchPlate__HASPone__HASwitchPlate.ino.d1_mini.bin',
        '?version=not%20a%20version!!&label=true',
      );
      expect(label.status).toBe(409);
      expect(label.json.message).toContain('v1.0.0');
    });
  },
);

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, AUTH } from './helpers/http.js';
import { CORPUS_AVAILABLE, CORPUS_SKIP_REASON, readFirmware } from './helpers/firmware-corpus.js';
import { encodeComponent, hostileSegment, hostileText } from './helpers/hostile-input.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const LEDLAMP_FACTORY = 'tominik83__ledlamp__firmware.bin';
const LEDLAMP_OTA = 'tominik83__ledlamp__firmware.ota.bin';
const HOMIO_EMPTY_FACTORY = 'kelwin13__homio-updates__firmware.factory-v1.0.12.bin';
const HOMIO_APP = 'kelwin13__homio-updates__firmware-v1.0.12.bin';
const WEBCAM_MERGED_S3 = '14790897__usb_webcam_esp32s3__firmware.bin';
const SMARTHOME = (part: string) => `00xxxxx__SmartHome_Esp32S3_CH32V307__${part}.bin`;

interface Manifest {
  name: string;
  version: string;
  new_install_prompt_erase: boolean;
  builds: { chipFamily: string; parts: { path: string; offset: number }[] }[];
}
interface Event {
  type: string;
  actor: string | null;
  to_version?: string | null;
  toVersion?: string | null;
  detail: string | null;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function multipart(files: Record<string, Uint8Array>): FormData {
  const form = new FormData();
  for (const [name, bytes] of Object.entries(files))
    form.append(name, new Blob([new Uint8Array(bytes)]), `${name}.bin`);
  return form;
}

async function postAsset(t: TestApp, imageId: number, body: FormData | Uint8Array) {
  const response = await fetch(`${t.url}/api/v1/firmware/${imageId}/install-asset`, {
    method: 'POST',
    headers: body instanceof FormData ? AUTH : { ...AUTH, 'content-type': 'application/octet-stream' },
    body: body instanceof FormData ? body : new Blob([new Uint8Array(body)]),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Fetches the manifest, then each part at its path resolved against the manifest's URL, as ESP Web Tools does. */
async function fetchInstall(t: TestApp, platform: string) {
  const manifestUrl = `${t.url}/ota/${encodeURIComponent(platform)}/install-manifest.json`;
  const response = await fetch(manifestUrl, { headers: AUTH });
  expect(response.status).toBe(200);
  const manifest = (await response.json()) as Manifest;
  const parts = [];
  for (const part of manifest.builds[0]!.parts) {
    const answer = await fetch(new URL(part.path, manifestUrl), { headers: AUTH });
    const bytes = Buffer.from(await answer.arrayBuffer());
    parts.push({ ...part, status: answer.status, contentLength: answer.headers.get('content-length'), bytes });
  }
  return { manifest, parts };
}

describeEachStore('install assets for browser installs (issue 15 item 2)', (store) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(store, { uploadLimit: 4 * 1024 * 1024, orphanGraceMs: 0 });
  });
  afterAll(() => t.stop());

  const upload = async (platform: string, file: string, query = '') => {
    const response = await api<{ image: { id: number }; released: boolean }>(
      t.url,
      'POST',
      `/api/v1/platforms/${platform}/firmware?release=true${query}`,
      readFirmware(file),
    );
    expect(response.status).toBe(201);
    return response.json.image.id;
  };
  const events = async (platform: string) =>
    (await api<{ events: Event[] }>(t.url, 'GET', `/api/v1/events?platform=${platform}`)).json.events;

  describe.skipIf(!CORPUS_AVAILABLE)(CORPUS_AVAILABLE ? 'real images' : `real images (${CORPUS_SKIP_REASON})`, () => {
    let ledlamp = 0;
    let smartHome = 0;

    beforeAll(async () => {
      expect(
        (await api(t.url, 'POST', '/api/v1/platforms', { name: 'ledlamp', chip: 'esp32', accessMode: 'open' })).status,
      ).toBe(201);
      expect(
        (await api(t.url, 'POST', '/api/v1/platforms', { name: 'smartHome', chip: 'esp32s3', accessMode: 'open' }))
          .status,
      ).toBe(201);
      ledlamp = await upload('ledlamp', LEDLAMP_OTA);
      smartHome = await upload('smartHome', SMARTHOME('smartHome'), '&version=1.0.0');
    });

    it('still refuses a factory image as an OTA upload', async () => {
      const response = await api<{ error: string }>(
        t.url,
        'POST',
        '/api/v1/platforms/ledlamp/firmware',
        readFirmware(LEDLAMP_FACTORY),
      );
      expect(response).toMatchObject({ status: 422, json: { error: 'firmware-rejected' } });
    });

    it('refuses an empty factory image and one whose app is not the release, keeping nothing', async () => {
      const blobsBefore = (await t.app.blobs.list()).length;
      expect(await postAsset(t, ledlamp, readFirmware(HOMIO_EMPTY_FACTORY))).toMatchObject({
        status: 422,
        json: { error: 'install-asset-rejected' },
      });
      // An S3 merged image with another app, for an S3 release; a classic-ESP32 factory image for an S3 release.
      expect(await postAsset(t, smartHome, readFirmware(WEBCAM_MERGED_S3))).toMatchObject({
        status: 422,
        json: { error: 'install-app-mismatch' },
      });
      expect(await postAsset(t, smartHome, readFirmware(LEDLAMP_FACTORY))).toMatchObject({
        status: 422,
        json: { error: 'install-app-mismatch' },
      });
      expect(
        await postAsset(t, smartHome, multipart({ bootloader: readFirmware(SMARTHOME('bootloader')) })),
      ).toMatchObject({
        status: 400,
      });
      expect((await t.app.blobs.list()).length).toBe(blobsBefore);
      expect((await api(t.url, 'GET', `/api/v1/firmware/${ledlamp}/install-asset`)).status).toBe(404);
    });

    it('serves an ESPHome factory image: a manifest with one part at 0, its bytes exact', async () => {
      const factory = readFirmware(LEDLAMP_FACTORY);
      const added = await postAsset(t, ledlamp, factory);
      expect(added).toMatchObject({
        status: 201,
        json: {
          imageId: ledlamp,
          layout: 'factory',
          chip: 'esp32',
          appOffset: '0x10000',
          createdBy: 'token:ESP_OTA_API_TOKEN',
          parts: [{ role: 'factory', offset: '0x0', size: factory.length, sha256: sha256(factory) }],
        },
      });
      expect((await postAsset(t, ledlamp, factory)).status).toBe(409);

      const { manifest, parts } = await fetchInstall(t, 'ledlamp');
      expect(manifest).toEqual({
        name: 'ledlamp',
        version: '2024.10.2',
        new_install_prompt_erase: true,
        builds: [{ chipFamily: 'ESP32', parts: [{ path: `install/${sha256(factory)}.bin`, offset: 0 }] }],
      });
      expect(parts[0]).toMatchObject({ status: 200, contentLength: String(factory.length) });
      expect(parts[0]!.bytes.equals(factory)).toBe(true);

      const added_ = (await events('ledlamp')).find((e) => e.type === 'install-asset-added');
      expect(added_).toMatchObject({
        actor: 'token:ESP_OTA_API_TOKEN',
        detail: `factory image (${factory.length} bytes) at 0x0`,
      });
    });

    it('serves an ESP-IDF build’s three parts at the bootloader’s, the table’s and the factory partition’s offsets', async () => {
      const files = {
        bootloader: readFirmware(SMARTHOME('bootloader')),
        partitions: readFirmware(SMARTHOME('partition-table')),
        app: readFirmware(SMARTHOME('smartHome')),
      };
      const added = await postAsset(t, smartHome, multipart(files));
      expect(added).toMatchObject({ status: 201, json: { layout: 'parts', chip: 'esp32s3', appOffset: '0x20000' } });

      const { manifest, parts } = await fetchInstall(t, 'smartHome');
      expect(manifest).toMatchObject({ name: 'smartHome', version: '1.0.0', builds: [{ chipFamily: 'ESP32-S3' }] });
      expect(parts.map((p) => [p.offset, p.status, Number(p.contentLength)])).toEqual([
        [0x0, 200, files.bootloader.length],
        [0x8000, 200, files.partitions.length],
        [0x20000, 200, files.app.length],
      ]);
      expect(parts.map((p) => sha256(p.bytes))).toEqual([files.bootloader, files.partitions, files.app].map(sha256));
    });

    it('needs a viewer for the manifest and its parts; a part of no install asset is a 404', async () => {
      const manifestUrl = `${t.url}/ota/ledlamp/install-manifest.json`;
      expect((await fetch(manifestUrl)).status).toBe(401);
      const { manifest } = await fetchInstall(t, 'ledlamp');
      expect((await fetch(new URL(manifest.builds[0]!.parts[0]!.path, manifestUrl))).status).toBe(401);
      const other = new URL(`install/${'0'.repeat(64)}.bin`, manifestUrl);
      expect((await fetch(other, { headers: AUTH })).status).toBe(404);
      expect((await fetch(`${t.url}/ota/nope/install-manifest.json`, { headers: AUTH })).status).toBe(404);
    });

    it('removes an asset with an event naming who did it; its own files are collected, the release’s stay', async () => {
      const factory = readFirmware(LEDLAMP_FACTORY);
      expect((await api(t.url, 'DELETE', `/api/v1/firmware/${ledlamp}/install-asset`)).status).toBe(204);
      expect((await api(t.url, 'DELETE', `/api/v1/firmware/${ledlamp}/install-asset`)).status).toBe(404);
      expect((await fetch(`${t.url}/ota/ledlamp/install-manifest.json`, { headers: AUTH })).status).toBe(404);
      const removed = (await events('ledlamp')).find((e) => e.type === 'install-asset-removed');
      expect(removed).toMatchObject({ actor: 'token:ESP_OTA_API_TOKEN' });

      await t.app.collectOrphans();
      const keys = new Set((await t.app.blobs.list()).map((b) => b.key));
      expect(keys.has(sha256(factory))).toBe(false);
      expect(keys.has(sha256(readFirmware(LEDLAMP_OTA)))).toBe(true);
      // The S3 parts are still an asset's: the collector keeps all three (the app is the release's blob too).
      for (const part of ['bootloader', 'partition-table', 'smartHome']) {
        expect(keys.has(sha256(readFirmware(SMARTHOME(part))))).toBe(true);
      }
    });

    it('deletes an image with its install asset; the asset’s own files are then collected', async () => {
      // Another S3 build released instead, so that the one with the asset can be deleted.
      await upload('smartHome', HOMIO_APP, '&version=2.0.0&force=true');
      expect((await api(t.url, 'DELETE', `/api/v1/firmware/${smartHome}`)).status).toBe(204);
      expect((await api(t.url, 'GET', `/api/v1/firmware/${smartHome}/install-asset`)).status).toBe(404);
      await t.app.collectOrphans();
      const keys = new Set((await t.app.blobs.list()).map((b) => b.key));
      for (const part of ['bootloader', 'partition-table', 'smartHome']) {
        expect(keys.has(sha256(readFirmware(SMARTHOME(part))))).toBe(false);
      }
    });
  });

  it('answers hostile install-asset bodies and names with a 4xx, never a 5xx', async () => {
    expect(
      (await api(t.url, 'POST', '/api/v1/platforms', { name: 'Hostile', chip: 'esp32s3', accessMode: 'open' })).status,
    ).toBe(201);
    const names = fc.constantFrom('factory', 'bootloader', 'partitions', 'app', 'file', '', 'x y', '\u00e9');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(names, fc.uint8Array({ maxLength: 2048 })), { maxLength: 4 }),
        fc.constantFrom(1, 2, 999999, 2147483647),
        async (files, id) => {
          const form = new FormData();
          for (const [name, bytes] of files) form.append(name, new Blob([new Uint8Array(bytes)]), 'f.bin');
          const response = await fetch(`${t.url}/api/v1/firmware/${id}/install-asset`, {
            method: 'POST',
            headers: AUTH,
            body: form,
          });
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 40, seed: 15 },
    );
    await fc.assert(
      fc.asyncProperty(
        hostileSegment,
        fc.oneof(hostileSegment, hostileText.map(encodeComponent)),
        async (platform, file) => {
          for (const path of [`/ota/${platform}/install-manifest.json`, `/ota/${platform}/install/${file}`]) {
            const response = await fetch(`${t.url}${path}`, { headers: AUTH });
            expect(response.status).toBeGreaterThanOrEqual(400);
            expect(response.status).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 60, seed: 15 },
    );
  });
});

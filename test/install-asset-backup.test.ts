import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportToDirectory } from '../src/features/backup/catalogue-export.js';
import { importFromDirectory } from '../src/features/backup/catalogue-import.js';
import { systemClock } from '../src/lib/clock.js';
import { CORPUS_AVAILABLE, CORPUS_SKIP_REASON, readFirmware } from './helpers/firmware-corpus.js';
import { api, AUTH } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const SMARTHOME = (part: string) => readFirmware(`00xxxxx__SmartHome_Esp32S3_CH32V307__${part}.bin`);
const LIMIT = 4 * 1024 * 1024;

/** An export carries a release's install asset; an import into either store serves the same manifest and bytes. */
describe.skipIf(!CORPUS_AVAILABLE)(
  `install assets in export and import${CORPUS_AVAILABLE ? '' : ` (${CORPUS_SKIP_REASON})`}`,
  () => {
    let source: TestApp;
    const dir = mkdtempSync(join(tmpdir(), 'esp-ota-install-export-'));

    beforeAll(async () => {
      source = await startTestApp('sqlite', { uploadLimit: LIMIT });
      expect((await api(source.url, 'POST', '/api/v1/platforms', { name: 'smartHome', chip: 'esp32s3' })).status).toBe(
        201,
      );
      const upload = await api<{ image: { id: number } }>(
        source.url,
        'POST',
        '/api/v1/platforms/smartHome/firmware?release=true&version=1.0.0',
        SMARTHOME('smartHome'),
      );
      const form = new FormData();
      form.append('bootloader', new Blob([new Uint8Array(SMARTHOME('bootloader'))]), 'b.bin');
      form.append('partitions', new Blob([new Uint8Array(SMARTHOME('partition-table'))]), 'p.bin');
      form.append('app', new Blob([new Uint8Array(SMARTHOME('smartHome'))]), 'a.bin');
      const added = await fetch(`${source.url}/api/v1/firmware/${upload.json.image.id}/install-asset`, {
        method: 'POST',
        headers: AUTH,
        body: form,
      });
      expect(added.status).toBe(201);
      await exportToDirectory(source.app.catalogue, source.app.blobs, dir, Date.now());
    });
    afterAll(() => source.stop());

    const manifestOf = async (t: TestApp) =>
      (await fetch(`${t.url}/ota/smartHome/install-manifest.json`, { headers: AUTH })).json() as Promise<{
        builds: { parts: { path: string; offset: number }[] }[];
      }>;

    describeEachStore('into', (store) => {
      let target: TestApp;
      beforeAll(async () => {
        target = await startTestApp(store, { uploadLimit: LIMIT });
      });
      afterAll(() => target.stop());

      it('refuses an export whose install asset was edited to another file, importing nothing', async () => {
        const edited = mkdtempSync(join(tmpdir(), 'esp-ota-install-export-edited-'));
        const yaml = readFileSync(join(dir, 'catalogue.yaml'), 'utf8');
        const bootloaderKey = createHash('sha256').update(SMARTHOME('bootloader')).digest('hex');
        const appKey = createHash('sha256').update(SMARTHOME('smartHome')).digest('hex');
        // The bootloader's entry now names the app's file: the parts no longer make an install.
        const swapped = yaml.replace(
          new RegExp(`- role: bootloader\\n(\\s+)file: firmware/${bootloaderKey}\\.bin\\n\\s+sha256: ${bootloaderKey}`),
          `- role: bootloader\n$1file: firmware/${appKey}.bin\n$1sha256: ${appKey}`,
        );
        expect(swapped).not.toBe(yaml);
        writeFileSync(join(edited, 'catalogue.yaml'), swapped);
        cpSync(join(dir, 'firmware'), join(edited, 'firmware'), { recursive: true });
        const deps = {
          catalogue: target.app.catalogue,
          blobs: target.app.blobs,
          clock: systemClock,
          uploadLimit: LIMIT,
        };
        await expect(importFromDirectory(edited, deps)).rejects.toThrow(
          /install asset: the bootloader part is an application image/,
        );
        expect(await target.app.catalogue.stores.platforms.list()).toEqual([]);
      });

      it('restores the asset: the same manifest, each part byte for byte', async () => {
        const deps = {
          catalogue: target.app.catalogue,
          blobs: target.app.blobs,
          clock: systemClock,
          uploadLimit: LIMIT,
        };
        const report = await importFromDirectory(dir, deps);
        expect(report.installAssetsRestored).toBe(1);
        const [before, after] = [await manifestOf(source), await manifestOf(target)];
        expect(after).toEqual(before);
        for (const part of after.builds[0]!.parts) {
          const url = new URL(part.path, `${target.url}/ota/smartHome/install-manifest.json`);
          const [a, b] = await Promise.all(
            [url, new URL(part.path, `${source.url}/ota/smartHome/install-manifest.json`)].map(async (u) =>
              Buffer.from(await (await fetch(u, { headers: AUTH })).arrayBuffer()),
            ),
          );
          expect(a!.length).toBeGreaterThan(0);
          expect(a!.equals(b!)).toBe(true);
        }
        // Importing again changes nothing.
        expect((await importFromDirectory(dir, deps)).installAssetsRestored).toBe(0);
      });
    });
  },
);

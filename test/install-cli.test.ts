import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from './helpers/cli-run.js';
import { CORPUS_AVAILABLE, CORPUS_SKIP_REASON, FIRMWARE_DIR, readFirmware } from './helpers/firmware-corpus.js';
import { api, TEST_TOKEN } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const SMARTHOME = (part: string) => join(FIRMWARE_DIR, `00xxxxx__SmartHome_Esp32S3_CH32V307__${part}.bin`);
const LEDLAMP_FACTORY = join(FIRMWARE_DIR, 'tominik83__ledlamp__firmware.bin');

/** `esp-ota install-asset add|show|rm`, each a process of its own against a real server, with real build files. */
describe.skipIf(!CORPUS_AVAILABLE)(
  `esp-ota install-asset${CORPUS_AVAILABLE ? '' : ` (${CORPUS_SKIP_REASON})`}`,
  { timeout: 120_000 },
  () => {
    let t: TestApp;
    let id = 0;
    const dir = mkdtempSync(join(tmpdir(), 'esp-ota-install-cli-'));
    const cli = (args: string[]) =>
      runCliProcess(args, { env: { ESP_OTA_URL: t.url, ESP_OTA_TOKEN: TEST_TOKEN }, cwd: dir });

    beforeAll(async () => {
      t = await startTestApp('sqlite', { uploadLimit: 4 * 1024 * 1024 });
      expect((await api(t.url, 'POST', '/api/v1/platforms', { name: 'smartHome', chip: 'esp32s3' })).status).toBe(201);
      const upload = await api<{ image: { id: number } }>(
        t.url,
        'POST',
        '/api/v1/platforms/smartHome/firmware?release=true&version=1.0.0',
        readFirmware('00xxxxx__SmartHome_Esp32S3_CH32V307__smartHome.bin'),
      );
      id = upload.json.image.id;
    });
    afterAll(() => t.stop());

    it('refuses a half-given set (usage, 2), a missing file (2) and a factory image of another app (1)', async () => {
      expect(await cli(['install-asset', 'add', String(id), '--bootloader', SMARTHOME('bootloader')])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('give --factory, or all three'),
      });
      expect((await cli(['install-asset', 'add', String(id), '--factory', join(dir, 'nope.bin')])).code).toBe(2);
      const other = await cli(['install-asset', 'add', String(id), '--factory', LEDLAMP_FACTORY]);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('ESP32');
    });

    it('adds the three parts, shows them, and removes them', async () => {
      const added = await cli([
        'install-asset',
        'add',
        String(id),
        '--bootloader',
        SMARTHOME('bootloader'),
        '--partitions',
        SMARTHOME('partition-table'),
        '--app',
        SMARTHOME('smartHome'),
      ]);
      expect(added.code).toBe(0);
      expect(added.stdout).toContain(`image ${id} can be installed from a browser`);
      const shown = await cli(['install-asset', 'show', String(id), '--json']);
      expect(JSON.parse(shown.stdout)).toMatchObject({
        layout: 'parts',
        chip: 'esp32s3',
        parts: [
          { role: 'bootloader', offset: '0x0', size: 21024 },
          { role: 'partition-table', offset: '0x8000', size: 3072 },
          { role: 'app', offset: '0x20000', size: 1085920 },
        ],
      });
      expect((await cli(['install-asset', 'rm', String(id)])).stdout).toBe(
        `removed the install files of image ${id}\n`,
      );
      expect((await cli(['install-asset', 'show', String(id)])).code).toBe(1);
    });
  },
);

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_AVAILABLE, BROWSER_SKIP_REASON, launchBrowser } from '../helpers/browser.js';
import { CORPUS_AVAILABLE, CORPUS_SKIP_REASON, FIRMWARE_DIR, readFirmware } from '../helpers/firmware-corpus.js';
import { AUTH, TEST_ADMIN_PASSWORD } from '../helpers/http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const LEDLAMP_FACTORY = 'tominik83__ledlamp__firmware.bin';
const LEDLAMP_OTA = 'tominik83__ledlamp__firmware.ota.bin';
const SMARTHOME = (part: string) => `00xxxxx__SmartHome_Esp32S3_CH32V307__${part}.bin`;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(url + path, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json' },
    body: body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
  });
}

/** Records CSP violations (from the page's own event) and console errors of a page. */
async function watch(page: Page): Promise<() => Promise<string[]>> {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const list = ((window as unknown as { cspViolations?: string[] }).cspViolations ??= []);
      list.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return async () => [
    ...problems,
    ...(await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? [])),
  ];
}

describe.skipIf(!BROWSER_AVAILABLE || !CORPUS_AVAILABLE)(
  `ESP Web Tools install button in Chromium ${BROWSER_AVAILABLE ? '' : `— ${BROWSER_SKIP_REASON}`}${CORPUS_AVAILABLE ? '' : ` — ${CORPUS_SKIP_REASON}`}`,
  () => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      t = await startTestApp('sqlite', { uploadLimit: 4 * 1024 * 1024 });
      expect((await post(t.url, '/api/v1/platforms', { name: 'ledlamp', chip: 'esp32' })).status).toBe(201);
      expect((await post(t.url, '/api/v1/platforms', { name: 'smartHome', chip: 'esp32s3' })).status).toBe(201);
      const image = await post(t.url, '/api/v1/platforms/ledlamp/firmware?release=true', readFirmware(LEDLAMP_OTA));
      const id = ((await image.json()) as { image: { id: number } }).image.id;
      expect((await post(t.url, `/api/v1/firmware/${id}/install-asset`, readFirmware(LEDLAMP_FACTORY))).status).toBe(
        201,
      );
      const app = readFirmware(SMARTHOME('smartHome'));
      expect((await post(t.url, '/api/v1/platforms/smartHome/firmware?release=true&version=1.0.0', app)).status).toBe(
        201,
      );
      browser = await launchBrowser();
      const context = await browser.newContext();
      page = await context.newPage();
      await page.goto(`${t.url}/login`);
      await page.getByLabel('User name').fill('admin');
      await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL((u) => u.pathname === '/');
    });
    afterAll(async () => {
      await browser?.close();
      await t?.stop();
    });

    it('loads the locally served module without CSP violations; the button points at the manifest', async () => {
      const problems = await watch(page);
      const scripts: string[] = [];
      page.on('request', (r) => {
        if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
      });
      await page.goto(`${t.url}/platforms/ledlamp`, { waitUntil: 'networkidle' });
      expect(await page.evaluate(() => customElements.get('esp-web-install-button') !== undefined)).toBe(true);
      const button = page.locator('esp-web-install-button');
      expect(await button.getAttribute('manifest')).toBe('/ota/ledlamp/install-manifest.json');
      expect(scripts).toContain('/static/esp-web-tools/install-button.js');
      expect(scripts.every((path) => path.startsWith('/static/'))).toBe(true);
      expect(await problems()).toEqual([]);

      // Web Serial cannot be driven here: the click loads the install dialog's module (and, as no port is picked,
      // the "no port selected" dialog), which must render under the same CSP.
      await page.getByRole('button', { name: 'Install 2024.10.2' }).click();
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(500);
      expect(scripts.some((path) => /^\/static\/esp-web-tools\/install-dialog-[\w-]+\.js$/.test(path))).toBe(true);
      expect(scripts.every((path) => path.startsWith('/static/'))).toBe(true);
      expect(await problems()).toEqual([]);
    });

    it('gives the browser session the manifest and the part, byte for byte', async () => {
      const fetched = await page.evaluate(async (manifestPath) => {
        const manifestUrl = new URL(manifestPath, location.href);
        const manifest = (await (await fetch(manifestUrl)).json()) as {
          builds: { chipFamily: string; parts: { path: string; offset: number }[] }[];
        };
        const part = manifest.builds[0]!.parts[0]!;
        const response = await fetch(new URL(part.path, manifestUrl));
        const digest = await crypto.subtle.digest('SHA-256', await response.arrayBuffer());
        return {
          manifest,
          length: response.headers.get('content-length'),
          sha256: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''),
        };
      }, '/ota/ledlamp/install-manifest.json');
      const factory = readFirmware(LEDLAMP_FACTORY);
      expect(fetched.manifest.builds).toEqual([
        { chipFamily: 'ESP32', parts: [{ path: `install/${sha256(factory)}.bin`, offset: 0 }] },
      ]);
      expect(fetched).toMatchObject({ length: String(factory.length), sha256: sha256(factory) });
    });

    it('attaches the three parts through the platform page’s form, then offers the install button', async () => {
      const problems = await watch(page);
      await page.goto(`${t.url}/platforms/smartHome`, { waitUntil: 'networkidle' });
      expect(await page.locator('esp-web-install-button').count()).toBe(0);
      await page.getByLabel('Bootloader').setInputFiles(join(FIRMWARE_DIR, SMARTHOME('bootloader')));
      await page.getByLabel('Partition table').setInputFiles(join(FIRMWARE_DIR, SMARTHOME('partition-table')));
      await page.getByLabel('App (1.0.0)').setInputFiles(join(FIRMWARE_DIR, SMARTHOME('smartHome')));
      await page.getByRole('button', { name: 'Add the three parts' }).click();
      await page.waitForLoadState('networkidle');
      expect(await page.textContent('body')).toContain('Version 1.0.0 can be installed from the browser.');
      expect(await page.locator('esp-web-install-button').getAttribute('manifest')).toBe(
        '/ota/smartHome/install-manifest.json',
      );
      expect(await page.textContent('#main')).toMatch(
        /bootloader .* at 0x0, partition table .* at 0x8000, application .* at 0x20000/,
      );
      expect(await problems()).toEqual([]);
    });
  },
);

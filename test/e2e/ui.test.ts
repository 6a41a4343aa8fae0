import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp32App, buildEsp8266App } from '../synthetic/image-builder.js';
import { BROWSER_AVAILABLE, BROWSER_SKIP_REASON, launchBrowser } from '../helpers/browser.js';
import { CORPUS_AVAILABLE, readFirmware } from '../helpers/firmware-corpus.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/http.js';

const WLED = 'wled__WLED-WebInstaller__WLED_0.15.0-b2_ESP8266.bin';
const MAC = '5C:CF:7F:AA:BB:01';

async function logIn(page: Page, password: string): Promise<void> {
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Drops a file on the page the way a person dragging it from their desktop does. */
async function dropFile(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ name, data }) => {
      const transfer = new DataTransfer();
      const binary = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      transfer.items.add(new File([binary], name, { type: 'application/octet-stream' }));
      return transfer;
    },
    { name, data: Buffer.from(bytes).toString('base64') },
  );
  await page.dispatchEvent('body', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('body', 'drop', { dataTransfer: transfer });
}

describe.skipIf(!BROWSER_AVAILABLE || !CORPUS_AVAILABLE)(
  `web UI in Chromium ${BROWSER_AVAILABLE ? '' : `— ${BROWSER_SKIP_REASON}`}`,
  () => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      t = await startTestApp('sqlite');
      browser = await launchBrowser();
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    });

    it('sends people to the login page and back', async () => {
      await page.goto(`${t.url}/devices`);
      expect(page.url()).toContain('/login?next=%2Fdevices');
      await logIn(page, 'wrong-password-1');
      expect(await page.getByRole('alert').textContent()).toContain('wrong user name or password');
      await logIn(page, TEST_ADMIN_PASSWORD);
      await expect.poll(() => new URL(page.url()).pathname).toBe('/devices');
      expect(await page.getByRole('navigation').textContent()).toContain('admin (admin)');
    });
    afterAll(async () => {
      await browser?.close();
      await t?.stop();
    });

    it('creates a platform from the dashboard', async () => {
      await page.goto(t.url);
      await page.getByLabel('New platform').fill('WLED');
      await page.getByRole('button', { name: 'Create platform' }).click();
      await expect.poll(() => page.url()).toContain('/platforms/WLED');
      expect(await page.getByRole('status').textContent()).toContain('Platform WLED created.');
    });

    it('uploads by drag and drop, shows progress and the detected version', async () => {
      await page.goto(`${t.url}/upload`);
      const older = buildEsp8266App({ strings: ['ESP-OTA:platform=WLED;version=0.14.4'] });
      await dropFile(page, 'wled-0.14.4.bin', older);
      await page.getByText('WLED 0.14.4 (esp8266) uploaded and released').waitFor();

      await dropFile(page, WLED, readFirmware(WLED));
      const item = page.locator('li.upload-item').first();
      expect(await item.locator('progress').count()).toBe(1);
      // Issue 12 §1: a version read from text after the platform's name is kept, not released by itself.
      await item.getByText('WLED v0.15.0-b2 (esp8266) uploaded, not released').waitFor();
      expect(await item.locator('progress').getAttribute('value')).toBe('100');
      expect(await item.textContent()).toContain('written after the platform name');
      expect(await item.textContent()).toContain('(version-inferred)');
      // The person releases it from the answer: the platform page opens with the confirmation unfolded.
      await item.getByRole('link', { name: 'Release v0.15.0-b2…' }).click();
      await page.getByText('No known device runs another version: nothing moves to v0.15.0-b2 now.').waitFor();
      await page.getByRole('button', { name: 'Release v0.15.0-b2 now' }).click();
      await page.getByText('Version v0.15.0-b2 is released.').waitFor();
    });

    it('asks for the version with the candidates when the image is ambiguous', async () => {
      await page.goto(`${t.url}/upload`);
      await page.getByLabel('Platform').selectOption('WLED');
      await dropFile(page, 'ambiguous.bin', buildEsp8266App({ strings: ['lib 3.3.3', 'other 4.4.4'] }));
      const item = page.locator('li.upload-item').first();
      await item.getByText('several possible versions').waitFor();
      await item.getByLabel('version', { exact: true }).selectOption('4.4.4');
      await item.getByRole('button', { name: 'Upload with this version' }).click();
      await item.getByText('WLED 4.4.4 (esp8266) uploaded').waitFor();
    });

    it('refuses another project’s build and uploads it anyway when asked (issue 12 §1)', async () => {
      await t.app.platforms.create({ name: 'OpenDTU', accessMode: 'open' }, 'test');
      await page.goto(`${t.url}/upload`);
      await page.getByLabel('Platform').selectOption('OpenDTU');
      const other = buildEsp32App({ descriptor: { projectName: 'simple_ota', version: '3d4085c-dirty' } });
      await dropFile(page, 'simple_ota.bin', other);
      const item = page.locator('li.upload-item').first();
      await item.getByText('names project "simple_ota", which is not platform "OpenDTU"').waitFor();
      await item.getByRole('button', { name: 'Upload anyway' }).click();
      await item.getByText('OpenDTU 3d4085c-dirty (esp32) uploaded, not released').waitFor();
      expect(await item.textContent()).toContain('(project-forced)');
    });

    it('shows a rejected file’s reason in plain words', async () => {
      await page.goto(`${t.url}/upload`);
      await dropFile(page, 'page.bin', Buffer.from('<!doctype html><html>404</html>'));
      await page.getByText('this is an HTML page, not firmware').waitFor();
    });

    it('adds a MAC, sees the device after it checks in, and rolls back', async () => {
      await page.goto(`${t.url}/platforms/WLED`);
      await page.getByLabel('MAC address').fill(MAC.toLowerCase().replaceAll(':', '-'));
      await page.getByLabel('Label').fill('porch strip');
      await page.getByRole('button', { name: 'Allow device' }).click();
      await page.getByText('5C:CF:7F:AA:BB:01').first().waitFor();

      const check = await fetch(`${t.url}/update?dev=WLED&ver=0.14.4`, {
        headers: { 'user-agent': 'ESP8266-http-Update', 'x-esp8266-sta-mac': MAC, 'x-esp8266-version': '0.14.4' },
      });
      expect(check.status).toBe(200);
      await t.app.flushActivity();
      await page.goto(`${t.url}/devices`);
      const row = page.getByRole('row', { name: /5C:CF:7F:AA:BB:01/ });
      expect(await row.textContent()).toMatch(/porch strip.*WLED.*0\.14\.4.*update offered/);

      await page.goto(`${t.url}/platforms/WLED`);
      const older = page.getByRole('row', { name: /^0\.14\.4/ });
      // The rollback first says who moves: the one device runs 0.14.4 already.
      await older.getByText('Roll back to this…').click();
      expect(await older.textContent()).toContain('No known device runs another version: nothing moves to 0.14.4 now.');
      await older.getByRole('button', { name: 'Release 0.14.4 now' }).click();
      await page.getByText('Version 0.14.4 is released.').waitFor();
      expect(await page.getByRole('row', { name: /^0\.14\.4/ }).textContent()).toContain('released');
    });

    it('works without JavaScript: forms post and answers render', async () => {
      const plain = await browser.newPage({ javaScriptEnabled: false });
      await plain.goto(`${t.url}/upload`);
      await logIn(plain, TEST_ADMIN_PASSWORD);
      await plain.getByLabel('Firmware file(s)').setInputFiles({
        name: 'nojs.bin',
        mimeType: 'application/octet-stream',
        buffer: buildEsp8266App({ strings: ['ESP-OTA:platform=WLED;version=0.16.0'] }),
      });
      await plain.getByRole('button', { name: 'Upload' }).click();
      // The rollback above pinned the release, so a newer upload is kept but not released.
      const answer = await plain.getByRole('status').textContent();
      expect(answer).toContain('WLED 0.16.0 uploaded, not released.');
      expect(answer).toContain('a person chose the released version 0.14.4');
      expect(answer).toContain('(release-pinned)');
      await plain.goto(`${t.url}/platforms/WLED`);
      expect(await plain.getByRole('row', { name: /^0\.16\.0/ }).textContent()).not.toContain('released');
      expect(await plain.getByText('The release was chosen by hand').count()).toBe(1);
      await plain.close();
    });

    it('escapes what people typed', async () => {
      await page.goto(t.url);
      await page.getByLabel('New platform').fill('<img src=x onerror=alert(1)>');
      await page.getByRole('button', { name: 'Create platform' }).click();
      await page.goto(t.url);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.content()).toContain('&lt;img src=x onerror=alert(1)&gt;');
    });

    it('shows errors where they happen, not as a stack trace', async () => {
      const response = await page.goto(`${t.url}/platforms/does-not-exist`);
      expect(response?.status()).toBe(404);
      expect(await page.getByRole('alert').textContent()).toContain('there is no platform named "does-not-exist"');
    });

    it('keeps every page under 100 KB on the wire and works at phone width', async () => {
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
      await phone.goto(`${t.url}/login`);
      await logIn(phone, TEST_ADMIN_PASSWORD);
      const pages = [
        '/',
        '/upload',
        '/platforms/WLED',
        '/devices',
        `/devices/${MAC.replaceAll(':', '').toLowerCase()}`,
        '/events',
        '/setup?platform=WLED',
      ];
      for (const path of pages) {
        let bytes = 0;
        phone.on('response', async (response) => {
          bytes += Number((await response.allHeaders())['content-length'] ?? (await response.body()).length);
        });
        await phone.goto(t.url + path, { waitUntil: 'networkidle' });
        const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
        expect(bytes, `${path} weight`).toBeLessThan(100 * 1024);
        phone.removeAllListeners('response');
      }
      await phone.close();
    });
  },
);

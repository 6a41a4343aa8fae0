import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from '../synthetic/image-builder.js';
import { BROWSER_AVAILABLE, BROWSER_SKIP_REASON, launchBrowser } from '../helpers/browser.js';
import { AUTH, TEST_ADMIN_PASSWORD } from '../helpers/http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The devices page in Chromium (issue 14 "Devices", issue 13 §2): filters, a count of every matching device (not of
 * one page), newer/older pages of 100 read by key from the database, and the released version beside the running one.
 */
const LAMPS = 104;
const lampMac = (n: number) => `5C:CF:7F:00:01:${n.toString(16).padStart(2, '0').toUpperCase()}`;

async function checkIn(url: string, platform: string, mac: string, version: string, chip = 'ESP8266') {
  const prefix = chip === 'ESP8266' ? 'x-esp8266' : 'x-esp32';
  const response = await fetch(`${url}/update?dev=${platform}&ver=${version}`, {
    headers: { 'user-agent': `${chip}-http-Update`, [`${prefix}-sta-mac`]: mac, [`${prefix}-version`]: version },
  });
  await response.arrayBuffer();
}

async function post(url: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(url + path, {
    method: 'POST',
    headers: {
      ...AUTH,
      'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json',
    },
    body: body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

describe.skipIf(!BROWSER_AVAILABLE)(
  `devices page in Chromium ${BROWSER_AVAILABLE ? '' : `— ${BROWSER_SKIP_REASON}`}`,
  () => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;
    const rows = () => page.locator('table.device-list tbody tr');
    const count = async () => (await page.locator('p.count').textContent())?.trim();

    beforeAll(async () => {
      t = await startTestApp('sqlite');
      await post(t.url, '/api/v1/platforms', { name: 'Lamp', accessMode: 'open' });
      await post(t.url, '/api/v1/platforms', { name: 'Strip', accessMode: 'open' });
      await post(t.url, '/api/v1/firmware', buildEsp8266App({ strings: ['ESP-OTA:platform=Lamp;version=1.10.0'] }));
      // Even lamps run the release, odd ones 1.9.0 (outdated); one ESP32 strip with nothing released.
      for (let n = 0; n < LAMPS; n++) await checkIn(t.url, 'Lamp', lampMac(n), n % 2 ? '1.9.0' : '1.10.0');
      await checkIn(t.url, 'Strip', '24:0A:C4:00:00:01', '2.0.0', 'ESP32');
      await t.app.flushActivity();
      browser = await launchBrowser();
      page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
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

    it('counts every device and pages newer/older, 100 at a time', async () => {
      await page.goto(`${t.url}/devices`);
      expect(await count()).toBe(`${LAMPS + 1} devices`);
      expect(await rows().count()).toBe(100);
      const newest = await rows().first().locator('td[data-label="MAC"] a').textContent();
      expect(newest).toBe('24:0A:C4:00:00:01'); // checked in last
      expect(await page.getByRole('link', { name: '← Newer' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Older →' }).click();
      await page.waitForURL((u) => u.searchParams.has('after'));
      expect(await rows().count()).toBe(LAMPS + 1 - 100);
      expect(await rows().last().locator('td[data-label="MAC"] a').textContent()).toBe(lampMac(0));
      expect(await page.getByRole('link', { name: 'Older →' }).count()).toBe(0);
      await page.getByRole('link', { name: '← Newer' }).click();
      await page.waitForURL((u) => u.searchParams.has('before'));
      expect(await rows().count()).toBe(100);
      expect(await rows().first().locator('td[data-label="MAC"] a').textContent()).toBe(newest);
    });

    it('filters by status, platform, chip and outdated on the server, with the released version beside', async () => {
      await page.goto(`${t.url}/devices`);
      await page.getByLabel('Status').selectOption('outdated');
      await page.getByLabel('Platform').selectOption('Lamp');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL((u) => u.searchParams.get('status') === 'outdated');
      expect(await count()).toBe(`${LAMPS / 2} devices match`);
      expect(await rows().count()).toBe(LAMPS / 2);
      const cells = async (label: string) =>
        new Set(await rows().locator(`td[data-label="${label}"]`).allTextContents());
      expect(await cells('Version')).toEqual(new Set(['1.9.0']));
      expect(await cells('Released')).toEqual(new Set(['1.10.0']));

      await page.goto(`${t.url}/devices`);
      await page.getByLabel('Chip').selectOption('esp32');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL((u) => u.searchParams.get('chip') === 'esp32');
      expect(await count()).toBe('1 device match');
      expect(await cells('Released')).toEqual(new Set(['none']));

      await page.goto(`${t.url}/devices`);
      await page.getByLabel('outdated only').check();
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL((u) => u.searchParams.get('outdated') === '1');
      expect(await count()).toBe(`${LAMPS / 2} devices match`);

      await page.goto(`${t.url}/devices?q=${encodeURIComponent('7f:00:01:0')}&sort=version&dir=desc`);
      expect(await count()).toBe('16 devices match');
      expect([...(await cells('Version'))]).toEqual(['1.10.0', '1.9.0']);
    });
  },
);

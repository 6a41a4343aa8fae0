import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from '../synthetic/image-builder.js';
import { BROWSER_AVAILABLE, BROWSER_SKIP_REASON, launchBrowser } from '../helpers/browser.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { AUTH, TEST_ADMIN_PASSWORD } from '../helpers/http.js';

const MAC = '5C:CF:7F:AA:BB:01';
const VIEWER_PASSWORD = 'viewer-password-1';

/** A new browser context logged in as this user (its own cookies), and a page in it. */
async function loggedIn(browser: Browser, url: string, user: string, password: string, width = 1280) {
  const context = await browser.newContext({ viewport: { width, height: width > 500 ? 800 : 844 } });
  const page = await context.newPage();
  await page.goto(`${url}/login`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => u.pathname === '/');
  return { context, page };
}

async function checkIn(url: string, platform: string, mac: string, version: string): Promise<void> {
  const response = await fetch(`${url}/update?dev=${platform}&ver=${version}`, {
    headers: { 'user-agent': 'ESP8266-http-Update', 'x-esp8266-sta-mac': mac, 'x-esp8266-version': version },
  });
  await response.arrayBuffer();
}

async function api(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(url + path, {
    method: 'POST',
    headers: {
      ...AUTH,
      'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json',
    },
    body: body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
  });
}

describe.skipIf(!BROWSER_AVAILABLE)(
  `web UI pages in Chromium ${BROWSER_AVAILABLE ? '' : `— ${BROWSER_SKIP_REASON}`}`,
  () => {
    let t: TestApp;
    let browser: Browser;
    let admin: { context: BrowserContext; page: Page };
    let viewer: { context: BrowserContext; page: Page };

    beforeAll(async () => {
      t = await startTestApp('sqlite');
      await t.app.auth.addUser('viewer', VIEWER_PASSWORD, 'viewer');
      expect((await api(t.url, '/api/v1/platforms', { name: 'WLED', accessMode: 'allowlist' })).status).toBe(201);
      const image = buildEsp8266App({ strings: ['ESP-OTA:platform=WLED;version=0.14.4'] });
      expect((await api(t.url, '/api/v1/firmware', image)).status).toBe(201);
      expect((await api(t.url, '/api/v1/platforms/WLED/allowlist', { mac: MAC, label: 'porch' })).status).toBe(201);
      await checkIn(t.url, 'WLED', MAC, '0.14.3');
      await t.app.flushActivity();
      browser = await launchBrowser();
      admin = await loggedIn(browser, t.url, 'admin', TEST_ADMIN_PASSWORD);
      viewer = await loggedIn(browser, t.url, 'viewer', VIEWER_PASSWORD);
    });
    afterAll(async () => {
      await browser?.close();
      await t?.stop();
    });

    const PAGES = [
      '/',
      '/upload',
      '/platforms/WLED',
      '/devices',
      `/devices/${MAC.replaceAll(':', '').toLowerCase()}`,
      '/events',
      '/setup?platform=WLED',
      '/account',
      '/platforms/no-such-platform',
    ];

    it('logs no console error and no CSP violation on any page, and shows a favicon', async () => {
      const { page } = admin;
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${page.url()}: ${m.type()} ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          const list = ((window as unknown as { cspViolations?: string[] }).cspViolations ??= []);
          list.push(`${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      for (const path of PAGES) {
        await page.goto(t.url + path, { waitUntil: 'networkidle' });
        const violations = await page.evaluate(
          () => (window as unknown as { cspViolations?: string[] }).cspViolations ?? [],
        );
        expect(violations, path).toEqual([]);
        const icon = await page.locator('link[rel=icon]').getAttribute('href');
        expect(icon, path).toBe('/static/favicon.svg');
      }
      // The 404 page logs its own status; that is the only message allowed.
      expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
      const favicon = await fetch(`${t.url}/static/favicon.svg`);
      expect(favicon.headers.get('content-type')).toBe('image/svg+xml');
      expect(await favicon.text()).toContain('<svg');
      page.removeAllListeners('console');
      page.removeAllListeners('pageerror');
    });

    it('fits the navigation in two lines on a phone, its links in one row', async () => {
      const phone = await loggedIn(browser, t.url, 'admin', TEST_ADMIN_PASSWORD, 390);
      for (const path of ['/', '/devices', '/account']) {
        await phone.page.goto(t.url + path);
        const lines = await phone.page.evaluate(() => {
          const tops = Array.from(document.querySelectorAll('header.top nav a, header.top nav button'))
            .filter((el) => (el as HTMLElement).offsetParent !== null)
            .map((el) => el.getBoundingClientRect().top)
            .sort((a, b) => a - b);
          return tops.filter((top, i) => i === 0 || top - tops[i - 1]! > 12).length;
        });
        expect(lines, path).toBeLessThanOrEqual(2);
        const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, path).toBeLessThanOrEqual(0);
      }
      await phone.context.close();
    });

    it('shows a viewer the pages without the admin’s forms', async () => {
      await viewer.page.goto(t.url);
      expect(await viewer.page.getByRole('button', { name: 'Create platform' }).count()).toBe(0);
      await viewer.page.goto(`${t.url}/account`);
      expect(await viewer.page.getByRole('button', { name: 'Create token' }).count()).toBe(0);
      expect(await viewer.page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
    });

    it('refreshes the cards and the attention list live without moving focus, each item with its action', async () => {
      const { page } = admin;
      await page.goto(t.url);
      const card = page.locator('article.card', { hasText: 'WLED' });
      expect(await card.locator('.big-label').textContent()).toBe('Released version');
      expect(await card.textContent()).toContain('0 refused');
      const input = page.getByLabel('New platform');
      await input.fill('Typed');
      await input.focus();

      await checkIn(t.url, 'WLED', '5C:CF:7F:AA:BB:02', '0.14.3');
      await checkIn(t.url, 'Garage', '5C:CF:7F:AA:BB:03', '1.0.0');
      await t.app.flushActivity();
      await page.locator('#attention-list', { hasText: '5C:CF:7F:AA:BB:02' }).waitFor({ timeout: 12_000 });
      await page.locator('#attention-list', { hasText: '5C:CF:7F:AA:BB:03' }).waitFor({ timeout: 12_000 });
      expect(await card.textContent()).toContain('1 refused');
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe('name');
      expect(await input.inputValue()).toBe('Typed');

      // Someone tabbed into a live region: it is not replaced under them.
      const history = page
        .locator('#attention-list li', { hasText: '5C:CF:7F:AA:BB:02' })
        .getByText('Open its history');
      await history.focus();
      await checkIn(t.url, 'WLED', '5C:CF:7F:AA:BB:04', '0.14.3');
      await t.app.flushActivity();
      await page.waitForTimeout(6_000);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Open its history');
      expect(await page.evaluate(() => document.activeElement?.closest('#attention-list') !== null)).toBe(true);

      const allow = page.locator('#attention-list li', { hasText: '5C:CF:7F:AA:BB:02' }).getByText('Allow this device');
      expect(await allow.getAttribute('href')).toBe('/platforms/WLED?allow=5C%3ACF%3A7F%3AAA%3ABB%3A02#allowlist');
      expect(await history.getAttribute('href')).toBe('/devices/5ccf7faabb02');
      await page.getByText('Create platform Garage').click();
      await page.waitForURL((u) => u.searchParams.get('newPlatform') === 'Garage');
      expect(await page.getByLabel('New platform').inputValue()).toBe('Garage');
    });

    it('copies a board snippet with its copy button', async () => {
      const { context, page } = admin;
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
      await page.goto(`${t.url}/setup?platform=WLED`);
      // The first line starts where the others do (inline code padding would indent it alone).
      const code = page.locator('#snippet-esp8266');
      expect(await code.evaluate((el) => getComputedStyle(el).paddingLeft)).toBe('0px');
      await page.getByRole('button', { name: 'Copy the ESP8266 (Arduino core 3.x) code' }).click();
      await page
        .getByRole('button', { name: 'Copy the ESP8266 (Arduino core 3.x) code' })
        .filter({ hasText: 'Copied' })
        .waitFor();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      expect(copied.startsWith('#include <ESP8266WiFi.h>')).toBe(true);
      expect(copied).toContain(`"${t.url}/update?dev=WLED&ver=" FW_VERSION`);
    });

    it('shows devices as cards on a phone, every field labelled, with a count', async () => {
      const phone = await loggedIn(browser, t.url, 'admin', TEST_ADMIN_PASSWORD, 390);
      await phone.page.goto(`${t.url}/devices`);
      expect(await phone.page.locator('p.count').textContent()).toMatch(/^\d+ devices?$/);
      const row = phone.page.locator('table.device-list tbody tr').first();
      expect(await row.evaluate((el) => getComputedStyle(el).display)).toBe('block');
      const ip = row.locator('td[data-label="IP"]');
      expect(await ip.isVisible()).toBe(true);
      expect(await ip.evaluate((el) => getComputedStyle(el, '::before').content)).toBe('"IP"');
      const box = (await row.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      await phone.context.close();
    });
  },
);

import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from '../synthetic/image-builder.js';
import { BROWSER_AVAILABLE, BROWSER_SKIP_REASON, launchBrowser } from '../helpers/browser.js';
import { api, esp8266Request, rawRequest, TEST_ADMIN_PASSWORD } from '../helpers/http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const MAC = '5C:CF:7F:AA:CC:01';
const image = (version: string) =>
  buildEsp8266App({ strings: [`ESP-OTA:platform=Porch;version=${version}`, 'pad'.repeat(30 + version.length)] });
const V1 = image('1.0.0');
const V2 = image('1.1.0');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Issue 14: the device page's "pin / group" and "unpin / back to automatic", in Chromium, with what devices get. */
describe.skipIf(!BROWSER_AVAILABLE)(
  `device page pin, group and unpin in Chromium ${BROWSER_AVAILABLE ? '' : `— ${BROWSER_SKIP_REASON}`}`,
  () => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;
    const check = () =>
      rawRequest(
        t.url,
        esp8266Request(new URL(t.url).host, '/update?dev=Porch&ver=1.1.0', { mac: MAC, sketchMd5: md5(V2) }),
      );

    beforeAll(async () => {
      t = await startTestApp('sqlite');
      await api(t.url, 'POST', '/api/v1/platforms', { name: 'Porch', accessMode: 'open' });
      expect((await api(t.url, 'POST', '/api/v1/firmware', V1)).status).toBe(201);
      expect((await api(t.url, 'POST', '/api/v1/firmware', V2)).status).toBe(201);
      await api(t.url, 'POST', '/api/v1/platforms/Porch/groups', { name: 'lab' });
      expect((await check()).status).toBe(304);
      await t.app.flushActivity();
      browser = await launchBrowser();
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${t.url}/login`);
      await page.getByLabel('User name').fill('admin');
      await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await t?.stop();
    });

    it('pins the device to an older version, which it is then served, and unpins it', { timeout: 60_000 }, async () => {
      await page.goto(`${t.url}/devices/${MAC}`);
      expect(await page.getByRole('region', { name: 'Groups and pin' }).textContent()).toContain('Automatic');
      await page.getByLabel('Pin to version').selectOption('1.0.0');
      await page.getByRole('button', { name: 'Pin', exact: true }).click();
      await page.getByText('Pinned to 1.0.0.').waitFor();
      // Post → redirect → get: the address is the device page again, and reloading changes nothing.
      expect(new URL(page.url()).pathname).toBe(`/devices/${MAC.toLowerCase().replaceAll(':', '')}`);
      expect(await page.getByRole('region', { name: 'Groups and pin' }).textContent()).toMatch(/pinned.*1\.0\.0/i);

      const pinned = await check();
      expect(pinned.status).toBe(200);
      expect(pinned.headers.get('x-ota-reason')).toEqual(['pinned']);
      expect(Buffer.compare(pinned.body, V1)).toBe(0);

      await page.getByLabel('Add to group').selectOption('lab');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.getByText('Added to group lab.').waitFor();

      await page.getByRole('button', { name: 'Unpin (back to automatic)' }).click();
      await page.getByText('Unpinned: the device follows the release and rollouts again.').waitFor();
      expect(await page.getByRole('region', { name: 'Groups and pin' }).textContent()).toContain('Automatic');
      expect((await check()).status).toBe(304);

      const events = await api<{ events: { type: string; actor: string }[] }>(
        t.url,
        'GET',
        `/api/v1/events?mac=${encodeURIComponent(MAC)}`,
      );
      const changes = events.json.events.filter((e) => e.type !== 'download' && e.type !== 'first-seen');
      expect(
        changes.filter((e) => ['device-pinned', 'device-unpinned', 'group-members-added'].includes(e.type)),
      ).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'device-pinned', actor: 'admin' }),
          expect.objectContaining({ type: 'group-members-added', actor: 'admin' }),
          expect.objectContaining({ type: 'device-unpinned', actor: 'admin' }),
        ]),
      );
    });

    it('lists the groups on the platform page with their counts and badges', { timeout: 60_000 }, async () => {
      await page.goto(`${t.url}/platforms/Porch`);
      const groups = page.getByRole('region', { name: 'Device groups' });
      expect(await groups.textContent()).toContain('lab 1 devices');
      await groups.getByText('change…').click();
      await groups.getByLabel('Pinned to').selectOption('1.0.0');
      await groups.getByLabel('Rollouts').selectOption('yes');
      await groups.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Group lab: left out of rollouts, pinned to 1.0.0.').waitFor();
      const text = await page.getByRole('region', { name: 'Device groups' }).textContent();
      expect(text).toContain('excluded');
      expect(text).toContain('pinned 1.0.0');
    });
  },
);

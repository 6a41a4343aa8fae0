import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from '../synthetic/image-builder.js';
import { BROWSER_AVAILABLE, BROWSER_SKIP_REASON, launchBrowser } from '../helpers/browser.js';
import { api, esp8266Request, rawRequest, TEST_ADMIN_PASSWORD } from '../helpers/http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const image = (version: string) =>
  buildEsp8266App({ strings: [`ESP-OTA:platform=Lamps;version=${version}`, 'r'.repeat(2000)] });
const V2 = image('2.0.0');
const V2_MD5 = createHash('md5').update(V2).digest('hex');
const macs = Array.from({ length: 40 }, (_, i) => `5C:CF:7F:10:00:${i.toString(16).padStart(2, '0')}`);

/** Issue 12 §5: a person walks a rollout from the platform page — start it, watch its counts move, pause, resume. */
describe.skipIf(!BROWSER_AVAILABLE)(
  `rollouts in Chromium ${BROWSER_AVAILABLE ? '' : `— ${BROWSER_SKIP_REASON}`}`,
  () => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;

    const check = (mac: string, version: string, sketchMd5?: string) =>
      rawRequest(
        t.url,
        esp8266Request(new URL(t.url).host, `/update?dev=Lamps&ver=${version}`, { mac, version, sketchMd5 }),
      );

    beforeAll(async () => {
      t = await startTestApp('sqlite');
      await api(t.url, 'POST', '/api/v1/platforms', { name: 'Lamps', accessMode: 'open' });
      const v1 = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', image('1.0.0'));
      expect(v1.status).toBe(201);
      expect((await api(t.url, 'POST', '/api/v1/firmware', V2)).status).toBe(201);
      // 2.0.0 stays kept, not released: a person chose 1.0.0.
      expect((await api(t.url, 'POST', `/api/v1/firmware/${v1.json.image.id}/release`)).status).toBe(200);
      for (const mac of macs) expect((await check(mac, '1.0.0')).status).toBe(304);
      browser = await launchBrowser();
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${t.url}/login`);
      await page.getByLabel('User name').fill('admin');
      await page.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL((url) => url.pathname === '/');
    });
    afterAll(async () => {
      await browser?.close();
      await t?.stop();
    });

    const panel = () => page.locator('section[aria-labelledby="rollout"]');
    const count = async (label: string) =>
      Number(await panel().locator(`.legend:has-text("${label}") strong`).textContent());

    it('starts a rollout from the platform page and shows its stage', async () => {
      await page.goto(`${t.url}/platforms/Lamps`);
      await panel().getByLabel('Roll out').selectOption('2.0.0');
      await panel().getByLabel('in stages (%)').fill('25,100');
      await panel().getByRole('button', { name: 'Start rollout' }).click();
      await expect.poll(async () => page.getByRole('status').textContent()).toContain('rollout of 2.0.0 has started');
      expect(await panel().textContent()).toContain('1.0.0 → 2.0.0');
      expect(await panel().textContent()).toContain('stage 1 of 2 (25 %)');
      expect(await panel().textContent()).toContain('started by admin');
    });

    it('shows the counts move as devices are served and come back on the new image', async () => {
      const served: string[] = [];
      for (const mac of macs) {
        const answer = await check(mac, '1.0.0');
        if (answer.status === 200) served.push(mac);
        else expect(answer.headers.get('x-ota-reason')?.[0]).toBe('rollout-pending');
      }
      expect(served.length).toBeGreaterThan(0);
      expect(served.length).toBeLessThan(macs.length);
      for (const mac of served) expect((await check(mac, '2.0.0', V2_MD5)).status).toBe(304);
      await t.app.fleet.monitorPass();
      await page.reload();
      expect(await count('updated')).toBe(served.length);
      expect(await count('later stage')).toBe(macs.length - served.length);
    });

    it('pauses, resumes and advances from its buttons, and a paused rollout admits nobody new', async () => {
      const click = async (button: string, notice: string) => {
        await panel().getByRole('button', { name: button, exact: true }).click();
        await expect.poll(async () => page.getByRole('status').textContent()).toContain(notice);
      };
      await click('Pause', 'paused');
      expect(await panel().locator('.badge').first().textContent()).toBe('paused');
      expect(await panel().getByRole('button', { name: 'Next stage' }).count()).toBe(0);
      await click('Resume', 'runs again');
      await click('Next stage', 'next stage');
      expect(await panel().textContent()).toContain('stage 2 of 2 (100 %)');
      await click('Pause', 'paused');
      // At 100 % but paused: devices still on 1.0.0 are told the rollout is paused, and get nothing.
      const waiting: string[] = [];
      for (const mac of macs) {
        const answer = await check(mac, '1.0.0');
        if (answer.status === 304 && answer.headers.get('x-ota-reason')?.[0] === 'rollout-paused') waiting.push(mac);
        else expect(answer.headers.get('x-ota-reason')?.[0]).not.toBe('rollout-pending');
      }
      expect(waiting.length).toBeGreaterThan(0);
      await click('Resume', 'runs again');
      expect((await check(waiting[0]!, '1.0.0')).status).toBe(200);
    });

    it('shows the rollout on the dashboard card, and a paused rollout with its reason in "needs attention"', async () => {
      await page.goto(t.url);
      const card = page.locator('article.card', { hasText: 'Lamps' });
      expect(await card.locator('.rollout-line').textContent()).toMatch(/Rollout of 2\.0\.0\s*running\s*stage 2 of 2/);
      expect(await page.locator('#attention-list').textContent()).not.toContain('is paused');
      const paused = await api(t.url, 'POST', '/api/v1/platforms/Lamps/rollouts/current/pause', {
        reason: 'lamps flicker after the update',
      });
      expect(paused.status).toBe(200);
      await page.reload();
      expect(await card.locator('.rollout-line .badge').textContent()).toBe('paused');
      const attention = page.locator('#attention-list li', { hasText: 'is paused' });
      expect(await attention.textContent()).toContain('lamps flicker after the update');
      await attention.getByRole('link', { name: 'Open the rollout' }).click();
      await expect.poll(() => new URL(page.url()).pathname).toBe('/platforms/Lamps');
    });
  },
);

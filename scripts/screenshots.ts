/**
 * Refreshes docs/screenshots/: starts a server on a temporary data folder, fills it with a small fleet (real images
 * from ../shared/firmware), and photographs every page at desktop and phone width in Debian's Chromium.
 * Run: npm run screenshots
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/compose.js';
import { buildEsp8266App } from '../test/synthetic/image-builder.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { readFirmware } from '../test/helpers/firmware-corpus.js';

const out = join(import.meta.dirname, '../docs/screenshots');
const data = mkdtempSync(join(tmpdir(), 'esp-ota-screens-'));
const token = 'screenshot-token-0123456789';
const password = 'screenshot-password';
const app = await createApp(
  {
    ...loadConfig({ env: {} }),
    data,
    port: 0,
    host: '127.0.0.1',
    eventFlushMs: 20,
    apiToken: token,
    adminPassword: password,
  },
  { logger: pino({ level: 'silent' }) },
);
const url = await app.listen();
const post = (path: string, body: unknown) =>
  fetch(url + path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json',
    },
    body: body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
  });

await post('/api/v1/platforms', { name: 'WLED', accessMode: 'allowlist' });
await post('/api/v1/platforms', { name: 'ledlamp', accessMode: 'open' });
await post('/api/v1/platforms', { name: 'AirPatrol', chip: 'esp8266' });
await post('/api/v1/firmware', buildEsp8266App({ strings: ['ESP-OTA:platform=WLED;version=0.14.4'] }));
await post('/api/v1/firmware', readFirmware('wled__WLED-WebInstaller__WLED_0.15.0-b2_ESP8266.bin'));
await post('/api/v1/firmware', readFirmware('tominik83__ledlamp__firmware.ota.bin'));
await post('/api/v1/firmware', buildEsp8266App({ strings: ['ESP-OTA:platform=AirPatrol;version=2.3.0'] }));
const macs = ['5C:CF:7F:10:00:01', '5C:CF:7F:10:00:02', '5C:CF:7F:10:00:03', 'A4:CF:12:55:20:0B'];
for (const [i, mac] of macs.entries())
  await post('/api/v1/platforms/WLED/allowlist', {
    mac,
    label: ['porch strip', 'kitchen shelf', 'garage', 'desk lamp'][i],
  });
const check = (platform: string, mac: string, version: string, extra: Record<string, string> = {}) =>
  fetch(`${url}/update?dev=${platform}&ver=${version}`, {
    headers: { 'user-agent': 'ESP8266-http-Update', 'x-esp8266-sta-mac': mac, 'x-esp8266-version': version, ...extra },
  });
await check('WLED', macs[0]!, 'v0.15.0-b2');
await check('WLED', macs[1]!, '0.14.4');
await check('WLED', macs[2]!, '0.14.4', { 'x-esp8266-free-space': '400000' });
await check('WLED', '5C:CF:7F:99:99:99', '0.13.0');
await check('AirPatrol', 'DE:BA:7A:B1:E0:42', '2.2.0');
await app.flushActivity();

const browser = await launchBrowser();
mkdirSync(out, { recursive: true });
const pages: [string, string][] = [
  ['dashboard', '/'],
  ['upload', '/upload'],
  ['platform', '/platforms/WLED'],
  ['devices', '/devices'],
  ['device', '/devices/5ccf7f100003'],
  ['events', '/events'],
  ['setup', '/setup?platform=WLED'],
];
for (const [width, height, suffix] of [
  [1280, 800, 'desktop'],
  [390, 844, 'phone'],
] as const) {
  const page = await browser.newPage({ viewport: { width, height }, isMobile: suffix === 'phone' });
  await page.goto(`${url}/login`);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${url}/`);
  for (const [name, path] of pages) {
    await page.goto(url + path, { waitUntil: 'networkidle' });
    await page.screenshot({ path: join(out, `${name}-${suffix}.png`), fullPage: suffix === 'desktop' });
  }
  await page.close();
}
await browser.close();
await app.close();
rmSync(data, { recursive: true, force: true });
console.log(`screenshots written to ${out}`);

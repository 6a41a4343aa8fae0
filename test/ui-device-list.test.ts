import { h } from 'preact';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rolloutOverview } from '../src/features/rollouts/rollout-overview.js';
import { FleetReader } from '../src/features/fleet/fleet-reader.js';
import { DevicesPage } from '../src/ui/pages/devices-page.js';
import { render } from '../src/ui/render.js';
import { deviceList } from '../src/ui/routes/device-list.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { AUTH, loginSession } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

async function post(t: TestApp, path: string, body: unknown): Promise<void> {
  const response = await fetch(t.url + path, {
    method: 'POST',
    headers: {
      ...AUTH,
      'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json',
    },
    body: body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

async function checkIn(t: TestApp, platform: string, mac: string, version: string, agent = 'ESP8266'): Promise<void> {
  const prefix = agent === 'ESP8266' ? 'x-esp8266' : 'x-esp32';
  const response = await fetch(`${t.url}/update?dev=${platform}&ver=${version}`, {
    headers: { 'user-agent': `${agent}-http-Update`, [`${prefix}-sta-mac`]: mac, [`${prefix}-version`]: version },
  });
  await response.arrayBuffer();
}

/** MACs in the order the list shows them. */
const macs = (html: string) => [...html.matchAll(/<a href="\/devices\/([0-9a-f]{12})">/g)].map((m) => m[1]);

describeEachStore('devices list', (store) => {
  let t: TestApp;
  let ui: Parameters<typeof deviceList>[0];
  const list = async (query: Record<string, string>) => {
    const props = await deviceList(ui, query);
    return { props, html: render(h(DevicesPage, props)) };
  };

  beforeAll(async () => {
    t = await startTestApp(store);
    await post(t, '/api/v1/platforms', { name: 'Lamp', accessMode: 'open' });
    await post(t, '/api/v1/platforms', { name: 'Strip', accessMode: 'open' });
    await post(t, '/api/v1/firmware', buildEsp8266App({ strings: ['ESP-OTA:platform=Lamp;version=1.10.0'] }));
    await checkIn(t, 'Lamp', '5C:CF:7F:00:00:01', '1.9.0');
    await checkIn(t, 'Lamp', '5C:CF:7F:00:00:02', '1.10.0');
    await checkIn(t, 'Lamp', '5C:CF:7F:00:00:03', '1.2.0');
    await checkIn(t, 'Strip', '24:0A:C4:00:00:04', '2.0.0', 'ESP32');
    await t.app.flushActivity();
    ui = {
      reader: new FleetReader(t.app.catalogue, () => t.app.fleet.registry.summary),
      platforms: t.app.platforms,
      firmware: t.app.firmware,
      rollouts: t.app.rollouts,
      rolloutOverview: (name) => rolloutOverview(t.app.rollouts, t.app.fleet, name),
      groups: t.app.groups,
      pins: t.app.pins,
      now: () => Date.now(),
    };
  });
  afterAll(() => t.stop());

  it('sorts by version as versions, with a count and the released version beside the running one', async () => {
    const { html } = await list({ sort: 'version', dir: 'asc' });
    expect(macs(html)).toEqual(['5ccf7f000003', '5ccf7f000001', '5ccf7f000002', '240ac4000004']);
    expect(html).toContain('4 devices');
    expect(html).toMatch(
      /<td data-label="Version">1\.9\.0<\/td><td data-label="Released" class="behind">1\.10\.0<\/td>/,
    );
    expect(html).toMatch(/<td data-label="Version">2\.0\.0<\/td><td data-label="Released">none<\/td>/);
  });

  it('filters by status, platform, chip and outdated, keeping the filters in the sort links', async () => {
    expect(macs((await list({ platform: 'Strip' })).html)).toEqual(['240ac4000004']);
    expect(macs((await list({ chip: 'esp32' })).html)).toEqual(['240ac4000004']);
    const outdated = await list({ outdated: '1', sort: 'mac', dir: 'asc' });
    expect(macs(outdated.html)).toEqual(['5ccf7f000001', '5ccf7f000003']);
    expect(outdated.html).toContain('2 devices match');
    expect(outdated.html).toContain('href="/devices?outdated=1&amp;sort=version&amp;dir=asc"');
    expect(macs((await list({ status: 'current' })).html)).toEqual(['5ccf7f000002']);
    expect(macs((await list({ status: 'outdated', platform: 'Strip' })).html)).toEqual([]);
    expect(macs((await list({ status: 'unknown' })).html)).toEqual(['240ac4000004']);
    expect((await list({ status: 'nonsense' })).props.filter?.status).toBeUndefined();
  });

  it('are what the /devices page serves, and the platform page fills the allowlist form from ?allow=', async () => {
    const { cookie } = await loginSession(t.url);
    const page = await (await fetch(`${t.url}/devices?platform=Strip`, { headers: { cookie } })).text();
    expect(page).toContain('24:0A:C4:00:00:04');
    expect(page).not.toContain('5C:CF:7F:00:00:01');
    const allow = await (await fetch(`${t.url}/platforms/Lamp?allow=5ccf7f0000aa`, { headers: { cookie } })).text();
    expect(allow).toContain('value="5C:CF:7F:00:00:AA"');
    const hostile = await (await fetch(`${t.url}/platforms/Lamp?allow=%22%3E%3Cb%3E`, { headers: { cookie } })).text();
    expect(hostile).not.toMatch(/value="[^"]*&quot;|<b>/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { AUTH } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

async function setupPage(t: TestApp, platform: string): Promise<string> {
  const response = await fetch(`${t.url}/setup?platform=${platform}`, { headers: AUTH });
  expect(response.status).toBe(200);
  return response.text();
}

async function createPlatform(t: TestApp, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${t.url}/api/v1/platforms`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

/** The text of each snippet on the page, by id, as the browser shows it. */
function snippets(html: string): Map<string, string> {
  const decode = (s: string) =>
    s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
  return new Map(
    [...html.matchAll(/<code id="snippet-([a-z0-9-]+)">([^]*?)<\/code>/g)].map((m) => [m[1]!, decode(m[2]!)]),
  );
}

describe('"Connect a board" page', () => {
  let local: TestApp;
  let published: TestApp;
  beforeAll(async () => {
    local = await startTestApp('sqlite');
    published = await startTestApp('sqlite', { publicUrl: 'http://ota.lan:8080/' });
    for (const t of [local, published]) {
      await createPlatform(t, { name: 'Lamp', chip: 'esp8266', accessMode: 'open' });
      await createPlatform(t, {
        name: 'Greenhouse',
        chip: 'esp32',
        deviceAuth: 'basic',
        deviceUser: 'greenfleet',
        deviceSecret: 'a-long-device-secret-1',
      });
      await createPlatform(t, { name: 'Any' });
    }
  });
  afterAll(async () => {
    await local?.stop();
    await published?.stop();
  });

  it('warns when it would hand boards a loopback address, and uses publicUrl when set', async () => {
    const html = await setupPage(local, 'Lamp');
    expect(html).toContain('which is this computer for every board');
    expect(snippets(html).get('esp8266')).toContain(`"${local.url}/update?dev=Lamp&ver=" FW_VERSION`);

    const configured = await setupPage(published, 'Lamp');
    expect(configured).not.toContain('which is this computer for every board');
    expect(snippets(configured).get('esp8266')).toContain('"http://ota.lan:8080/update?dev=Lamp&ver=" FW_VERSION');
  });

  it('shows only the code for the platform’s chip, each starting at its first character', async () => {
    const lamp = snippets(await setupPage(published, 'Lamp'));
    expect([...lamp.keys()]).toEqual(['esp8266', 'tasmota', 'platformio', 'esphome']);
    expect(lamp.get('tasmota')).toBe('Backlog OtaUrl http://ota.lan:8080/tasmota/Lamp/tasmota.bin.gz; Upgrade 1');
    expect(lamp.get('platformio')).toContain('platform = espressif8266');
    const greenhouse = snippets(await setupPage(published, 'Greenhouse'));
    expect([...greenhouse.keys()]).toEqual(['esp32', 'platformio', 'esp-idf', 'esphome', 'esp32fota']);
    const anyPage = await setupPage(published, 'Any');
    // Nothing between <pre> and <code>: a space there becomes the first character of the pasted code.
    expect(anyPage.match(/<pre>\s*<code/g)).toEqual(Array(7).fill('<pre><code'));
    const any = snippets(anyPage);
    expect([...any.keys()]).toEqual(['esp8266', 'tasmota', 'esp32', 'platformio', 'esp-idf', 'esphome', 'esp32fota']);
    for (const [id, code] of any) {
      expect(code, id).toMatch(/^([#[s]|Backlog )/);
      expect(code, id).not.toMatch(/^\s/);
    }
  });

  it('writes the device login in when the platform asks for one', async () => {
    const greenhouse = snippets(await setupPage(published, 'Greenhouse'));
    expect(greenhouse.get('esp32')).toContain('httpUpdate.setAuthorization("greenfleet", "DEVICE-SECRET");');
    expect(greenhouse.get('esp-idf')).toContain('.username = "greenfleet"');
    expect(greenhouse.get('esp-idf')).toContain('/ota/Greenhouse/app.bin?mac=');
    const lamp = snippets(await setupPage(published, 'Lamp'));
    expect(lamp.get('esp8266')).not.toContain('setAuthorization');
  });

  it('mints a device key from the page and fills the ESPHome YAML with that device’s manifest URL and login', async () => {
    const before = snippets(await setupPage(published, 'Greenhouse'));
    expect(before.get('esphome')).toContain('/ota/Greenhouse/d/DEVICE-KEY/manifest.json?ver=${version}');
    expect(before.get('esp32fota')).toContain(
      'fota.setManifestURL("http://ota.lan:8080/ota/Greenhouse/esp32fota.json");',
    );
    expect(before.get('esp32fota')).toContain('fota.setExtraHTTPHeader("Authorization", "Basic ');
    const minted = await fetch(`${published.url}/setup/device-key`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'platform=Greenhouse&mac=24-0a-c4-00-11-22',
      redirect: 'manual',
    });
    expect(minted.status).toBe(303);
    const location = minted.headers.get('location')!;
    expect(location).toMatch(/^\/setup\?platform=Greenhouse&device=24%3A0A%3AC4%3A00%3A11%3A22&notice=/);
    const page = await fetch(`${published.url}${location}`, { headers: AUTH });
    const html = await page.text();
    const keys = (await (
      await fetch(`${published.url}/api/v1/platforms/Greenhouse/device-keys`, { headers: AUTH })
    ).json()) as { keys: { key: string; mac: string; createdBy: string }[] };
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0]!.mac).toBe('24:0A:C4:00:11:22');
    expect(snippets(html).get('esphome')).toContain(
      `source: "http://greenfleet:DEVICE-SECRET@ota.lan:8080/ota/Greenhouse/d/${keys.keys[0]!.key}/manifest.json?ver=\${version}"`,
    );
    expect(html).toContain('A new key for 24:0A:C4:00:11:22');
    const refused = await fetch(`${published.url}/setup/device-key`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'platform=Greenhouse&mac=nope',
      redirect: 'manual',
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('is not a MAC address');
  });

  it('refuses a publicUrl that is not a base http(s) URL', () => {
    for (const bad of ['ota.lan:8080', 'ftp://ota.lan', 'http://ota.lan/update?x=1']) {
      expect(() => loadConfig({ env: { ESP_OTA_PUBLIC_URL: bad } }), bad).toThrow(ConfigError);
    }
    expect(loadConfig({ env: { ESP_OTA_PUBLIC_URL: 'https://ota.example.org' } }).publicUrl).toBe(
      'https://ota.example.org',
    );
  });
});

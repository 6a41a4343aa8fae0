import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { api, TEST_TOKEN } from './helpers/http.js';

/** `esp-ota device-key mint|list|revoke` (issue 15 item 1): the per-device ESPHome manifest URL from the CLI. */
describe('device keys from the CLI', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Porch', accessMode: 'open' });
  });
  afterAll(() => t.stop());

  const cli = (...args: string[]) => runCli('--server', t.url, '--token', TEST_TOKEN, ...args);

  it('mints a key and prints the manifest URL that answers, lists it, revokes it', async () => {
    const minted = await cli('device-key', 'mint', 'Porch', '24-0a-c4-00-11-22');
    expect(minted.code).toBe(0);
    const url = /^24:0A:C4:00:11:22 on Porch: (\S+)$/m.exec(minted.stdout)?.[1];
    expect(url).toMatch(new RegExp(`^${t.url}/ota/Porch/d/[A-Za-z0-9_-]{22}/manifest\\.json$`));
    // Nothing is released yet: the manifest route knows the key and says so (304), not 404.
    expect((await fetch(`${url}?ver=1.0.0`)).status).toBe(304);

    const listed = await cli('device-key', 'list', 'Porch');
    expect(listed.stdout).toMatch(/^MAC\s+BY\s+MANIFEST URL$/m);
    expect(listed.stdout).toContain(url);
    const json = JSON.parse((await cli('device-key', 'list', 'Porch', '--json')).stdout) as {
      keys: { mac: string; createdBy: string }[];
    };
    expect(json.keys).toMatchObject([{ mac: '24:0A:C4:00:11:22' }]);
    expect(json.keys[0]!.createdBy).toBeTruthy();

    expect((await cli('device-key', 'revoke', 'Porch', '24:0A:C4:00:11:22')).code).toBe(0);
    expect((await fetch(`${url}?ver=1.0.0`)).status).toBe(404);
    const again = await cli('device-key', 'revoke', 'Porch', '24:0A:C4:00:11:22');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has no device key on "Porch"');
    const bad = await cli('device-key', 'mint', 'Porch', 'not-a-mac');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a MAC address');
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Groups, pins and device keys survive `esp-ota export` / `import`: a restore must not let a rollout move a pinned
 * device, nor break the manifest URLs pasted into ESPHome configurations.
 */
describe('export and import keep groups, pins and device keys', () => {
  let source: TestApp;
  let target: TestApp;
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-group-backup-'));

  beforeAll(async () => {
    source = await startTestApp('sqlite');
    target = await startTestApp('sqlite');
    await api(source.url, 'POST', '/api/v1/platforms', { name: 'Porch', accessMode: 'open' });
    for (const version of ['1.0.0', '1.1.0']) {
      const bytes = buildEsp8266App({ strings: [`ESP-OTA:platform=Porch;version=${version}`, 'x'.repeat(77)] });
      expect((await api(source.url, 'POST', '/api/v1/firmware', bytes)).status).toBe(201);
    }
    await api(source.url, 'POST', '/api/v1/platforms/Porch/groups', { name: 'lab', pinnedVersion: '1.0.0' });
    await api(source.url, 'POST', '/api/v1/platforms/Porch/groups/lab/members', { macs: ['5CCF7F000001'] });
    await api(source.url, 'POST', '/api/v1/platforms/Porch/groups', { name: 'attic', excluded: true });
    await api(source.url, 'POST', '/api/v1/platforms/Porch/groups/attic/members', { macs: ['5CCF7F000002'] });
    await api(source.url, 'PUT', '/api/v1/devices/5CCF7F000003/pin', { platform: 'Porch', version: '1.1.0' });
    expect((await api(source.url, 'POST', '/api/v1/platforms/Porch/device-keys', { mac: '5CCF7F000004' })).status).toBe(
      201,
    );
  });
  afterAll(async () => {
    await source.stop();
    await target.stop();
  });

  const state = async (t: TestApp) => ({
    groups: (await api(t.url, 'GET', '/api/v1/platforms/Porch/groups/lab')).json,
    attic: (await api(t.url, 'GET', '/api/v1/platforms/Porch/groups/attic')).json,
    pin: (await api(t.url, 'GET', '/api/v1/devices/5CCF7F000003/pin')).json,
    keys: (await api(t.url, 'GET', '/api/v1/platforms/Porch/device-keys')).json,
  });

  it('round-trips groups, their members, pins and device keys, and a second import changes nothing', async () => {
    const out = join(work, 'export');
    expect((await runCli('export', '--data', source.dataDir, '--out', out)).code).toBe(0);
    const yaml = readFileSync(join(out, 'catalogue.yaml'), 'utf8');
    expect(yaml).toContain('groups:');
    expect(yaml).toContain('pins:');
    const imported = await runCli('import', out, '--data', target.dataDir);
    // Only the line naming the data folder it used (esp-ota import says which one), no warning or error.
    expect(imported.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^data folder: /)]);
    expect(imported.code).toBe(0);
    target.app.view.invalidate();
    const strip = (s: Awaited<ReturnType<typeof state>>) =>
      JSON.parse(JSON.stringify(s).replace(/"createdAt":"[^"]+"/g, '"createdAt":"-"')) as unknown;
    expect(strip(await state(target))).toEqual(strip(await state(source)));
    expect((await state(target)).pin).toMatchObject({ pins: [{ version: '1.1.0', group: null }] });
    expect((await state(target)).keys).toMatchObject({ keys: [{ mac: '5C:CF:7F:00:00:04' }] });
    expect((await runCli('import', out, '--data', target.dataDir)).code).toBe(0);
    expect(strip(await state(target))).toEqual(strip(await state(source)));
  });

  it('refuses an export whose group pins a version it does not have, or lists a bad MAC', async () => {
    const out = join(work, 'export');
    const yaml = readFileSync(join(out, 'catalogue.yaml'), 'utf8');
    const broken = join(work, 'broken');
    expect((await runCli('export', '--data', source.dataDir, '--out', broken)).code).toBe(0);
    writeFileSync(
      join(broken, 'catalogue.yaml'),
      yaml
        .replace('pinnedVersion: 1.0.0', 'pinnedVersion: 9.9.9')
        .replace('5C:CF:7F:00:00:02', 'not-a-mac')
        .replace(/key: \S+/, 'key: "../../etc"'),
    );
    const result = await runCli('import', broken, '--data', target.dataDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing was imported');
    expect(result.stderr).toContain('9.9.9');
    expect(result.stderr).toContain('not-a-mac');
    expect(result.stderr).toContain('../../etc');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { TEST_TOKEN } from './helpers/http.js';

describe('CLI against a running server', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'esp-ota-cli-'));
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(() => t.stop());

  const cli = (...args: string[]) => runCli('--server', t.url, '--token', TEST_TOKEN, ...args);

  it('manages platforms and allowlists, uploads, and lists devices and events', async () => {
    expect((await cli('platform', 'add', 'Garage', '--chip', 'esp8266')).stdout).toContain('created platform Garage');
    expect((await cli('platform', 'list')).stdout).toMatch(/^Garage\s+esp8266\s+allowlist\s+-\s+off$/m);
    expect((await cli('allow', 'add', 'Garage', '5ccf7f123456', '--label', 'door')).stdout).toContain(
      '5C:CF:7F:12:34:56',
    );

    const file = join(dir, 'garage.bin');
    writeFileSync(file, buildEsp8266App({ strings: ['ESP-OTA:platform=Garage;version=1.0.0'] }));
    const upload = await cli('upload', file);
    expect(upload.code).toBe(0);
    expect(upload.stdout).toMatch(/uploaded Garage 1\.0\.0 .*version from marker\), released/);

    await fetch(`${t.url}/update?dev=Garage&ver=0.9.0`, { headers: { 'x-esp8266-sta-mac': '5C:CF:7F:12:34:56' } });
    await t.app.flushActivity();
    expect((await cli('devices', '--platform', 'Garage')).stdout).toMatch(
      /^5C:CF:7F:12:34:56\s+Garage\s+0\.9\.0\s+.*newer-version\s+door$/m,
    );
    expect((await cli('events', '--platform', 'Garage')).stdout).toMatch(/download\s+Garage/);
    expect((await cli('allow', 'rm', 'Garage', '5C:CF:7F:12:34:56')).code).toBe(0);
    expect((await cli('platform', 'rm', 'Garage')).stdout).toContain('deleted platform Garage');
  });

  it('explains what the server refused and exits 1', async () => {
    await cli('platform', 'add', 'Quiet');
    const file = join(dir, 'quiet.bin');
    writeFileSync(file, buildEsp8266App({ strings: ['Quiet build 1.2.3', 'lib 4.5.6'] }));
    const result = await cli('upload', file, '--platform', 'Quiet');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('several possible versions');
    expect(result.stderr).toContain('candidate: 4.5.6');
    expect((await cli('upload', file, '--platform', 'Quiet', '--version', '1.2.3')).code).toBe(0);
  });

  it('says why an upload was not released; --label and --force override the refusals on purpose', async () => {
    await cli('platform', 'add', 'Labels');
    const file = join(dir, 'labels.bin');
    writeFileSync(file, buildEsp8266App({ strings: ['labels sketch'] }));
    const refused = await cli('upload', file, '--platform', 'Labels', '--version', 'not a version!!');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not a version');
    const label = await cli('upload', file, '--platform', 'Labels', '--version', 'lab build 7', '--label');
    expect(label.code).toBe(0);
    expect(label.stdout).toMatch(/^not released \(version-given\): version lab build 7 was given by the uploader/m);

    await cli('platform', 'add', 'Boiler');
    const other = join(dir, 'other.bin');
    writeFileSync(other, buildEsp32App({ descriptor: { projectName: 'simple_ota', version: '2.0.0' } }));
    const mismatch = await cli('upload', other, '--platform', 'Boiler');
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('names project "simple_ota"');
    const forced = await cli('upload', other, '--platform', 'Boiler', '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('not released (project-forced)');
  });

  it('says clearly when no server answers', async () => {
    const { code, stderr } = await runCli('--server', 'http://127.0.0.1:1', 'platform', 'list');
    expect(code).toBe(3);
    expect(stderr).toContain('cannot reach the server');
  });
});

import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { readCatalogue } from '../src/features/backup/catalogue-export.js';
import { buildEsp32App, buildEsp8266App } from './synthetic/image-builder.js';
import { api } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const cli = runCli;

/** The catalogue without ids and times that legitimately differ between two servers. */
async function comparable(t: TestApp) {
  const exported = await readCatalogue(t.app.catalogue, 0);
  return exported.platforms;
}

describe('export and import', () => {
  let source: TestApp;
  let target: TestApp;
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-backup-'));

  beforeAll(async () => {
    source = await startTestApp('sqlite');
    target = await startTestApp('sqlite');
    await api(source.url, 'POST', '/api/v1/platforms', { name: 'AirPatrol', accessMode: 'allowlist' });
    await api(source.url, 'POST', '/api/v1/platforms/AirPatrol/allowlist', { mac: '5C:CF:7F:12:34:56', label: 'hall' });
    await api(source.url, 'PATCH', '/api/v1/platforms/AirPatrol', {
      deviceAuth: 'token',
      deviceSecret: 'platform-secret-0123456789',
    });
    await api(source.url, 'PUT', '/api/v1/platforms/AirPatrol/allowlist/5C:CF:7F:12:34:56/secret', {
      secret: 'device-secret-0123456789',
    });
    await api(source.url, 'POST', '/api/v1/platforms', {
      name: 'Greenhouse',
      accessMode: 'open',
      fsPartitionSize: 65536,
    });
    for (const version of ['1.0.0', '1.1.0']) {
      await api(
        source.url,
        'POST',
        '/api/v1/firmware',
        buildEsp8266App({ strings: [`ESP-OTA:platform=AirPatrol;version=${version}`] }),
      );
    }
    await api(
      source.url,
      'POST',
      '/api/v1/firmware',
      buildEsp32App({ chipId: 9, descriptor: { projectName: 'Greenhouse', version: '2.0.0' } }),
    );
    const fs = Buffer.alloc(16384, 0xff);
    fs.write('littlefs', 8, 'latin1');
    // A label, not a version (issue 12 §1): marked as one, and released by the person who uploads it.
    await api(source.url, 'POST', '/api/v1/platforms/Greenhouse/firmware?version=fs-1&label=true&release=true', fs);
    // Issue 12 §1: the release policy, rollout template and update window travel with the platform.
    await api(source.url, 'PATCH', '/api/v1/platforms/Greenhouse', {
      releasePolicy: 'manual',
      rolloutTemplate: { stages: [5, 50, 100], policy: { minDevices: 2 } },
      updateWindow: { from: '22:00', to: '04:00', timeZone: 'Europe/Berlin' },
    });
    // Issue 15: gzip and the Tasmota minimal platform (named, so it survives other ids on the target).
    expect(
      (
        await api(source.url, 'PATCH', '/api/v1/platforms/AirPatrol', {
          esp8266Gzip: 'auto',
          minimalPlatform: 'Greenhouse',
        })
      ).status,
    ).toBe(200);
    // Roll AirPatrol back on purpose, so the pinned release must survive the round trip.
    const list = await api<{ images: { id: number; version: string }[] }>(
      source.url,
      'GET',
      '/api/v1/platforms/AirPatrol/firmware',
    );
    await api(
      source.url,
      'POST',
      `/api/v1/firmware/${list.json.images.find((i) => i.version === '1.0.0')!.id}/release`,
    );
  });
  afterAll(async () => {
    await source.stop();
    await target.stop();
  });

  it.each(['folder', 'tar.gz'])('round-trips the catalogue and the bytes through a %s', async (kind) => {
    const out = kind === 'folder' ? join(work, 'export-dir') : join(work, 'export.tar.gz');
    const exported = await cli('export', '--data', source.dataDir, '--out', out);
    expect(exported).toMatchObject({ code: 0 });
    expect(exported.stdout).toContain('exported 2 platforms and 4 images');
    const imported = await cli('import', out, '--data', target.dataDir);
    expect(imported.stderr).toBe(`data folder: ${target.dataDir} (SQLite ${join(target.dataDir, 'esp-ota.sqlite')})\n`);
    expect(imported.code).toBe(0);
    target.app.view.invalidate();
    expect(await comparable(target)).toEqual(await comparable(source));
    expect((await api(target.url, 'GET', '/api/v1/platforms/Greenhouse')).json).toMatchObject({
      releasePolicy: 'manual',
      rolloutTemplate: { stages: [5, 50, 100], policy: { minDevices: 2 } },
      updateWindow: { from: '22:00', to: '04:00', timeZone: 'Europe/Berlin' },
    });
    expect((await api(target.url, 'GET', '/api/v1/platforms/AirPatrol')).json).toMatchObject({
      esp8266Gzip: 'auto',
      minimalPlatform: 'Greenhouse',
    });
    for (const image of (await comparable(source)).flatMap((p) => p.images)) {
      expect(Buffer.compare(await target.app.blobs.read(image.sha256), await source.app.blobs.read(image.sha256))).toBe(
        0,
      );
    }
    // A second import of the same export changes nothing.
    const again = await cli('import', out, '--data', target.dataDir);
    expect(again.stdout).toContain('0 new platforms, 0 allowed devices, 0 images; 4 images were already here');
  });

  it('serves the imported release to devices as the source did, with their credentials', async () => {
    const check = (token?: string) =>
      fetch(`${target.url}/update?dev=AirPatrol&ver=1.1.0`, {
        headers: { 'x-esp8266-sta-mac': '5C:CF:7F:12:34:56', ...(token ? { 'x-ota-token': token } : {}) },
      });
    expect((await check()).status).toBe(401);
    const response = await check('device-secret-0123456789');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ota-reason')).toBe('rollback');
    expect((await check('platform-secret-0123456789')).status).toBe(200);
  });

  it('refuses a conflicting export and applies none of it', async () => {
    const dir = join(work, 'conflict');
    await cli('export', '--data', source.dataDir, '--out', dir);
    const yaml = readFileSync(join(dir, 'catalogue.yaml'), 'utf8');
    // Same version, other bytes: point 1.1.0 at the 1.0.0 file (a real, valid image).
    const lines = yaml.split('\n');
    const files = lines.filter((l) => l.includes('file: firmware/'));
    const digests = lines.filter((l) => l.trim().startsWith('sha256:'));
    const edited = yaml
      .replace(files[1]!, files[0]!)
      .replace(digests[1]!, digests[0]!)
      .replace('name: Greenhouse', 'name: Brand New');
    writeFileSync(join(dir, 'catalogue.yaml'), edited);
    const before = await comparable(target);
    const result = await cli('import', dir, '--data', target.dataDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing was imported');
    expect(result.stderr).toContain('already has that version with other bytes');
    expect(await comparable(target)).toEqual(before);
  });

  it.each([
    ['broken YAML', 'platforms: [\n', /catalogue\.yaml: /],
    [
      'a file outside the export',
      'format: esp-ota-export/1\nexportedAt: x\nplatforms:\n  - name: A\n    chip: null\n    accessMode: open\n    fsPartitionSize: null\n    releasedApp: null\n    releasedFilesystem: null\n    releasePinned: false\n    allowlist: []\n    images:\n      - { kind: app, version: "1", file: "../../etc/passwd", sha256: "' +
        '0'.repeat(64) +
        '", md5: x, size: 1, filename: null, uploadedAt: x }\n',
      /file/,
    ],
    ['a wrong format', 'format: something-else\n', /format/],
  ])('refuses %s with a clear message', async (_name, yaml, message) => {
    const dir = mkdtempSync(join(work, 'bad-'));
    writeFileSync(join(dir, 'catalogue.yaml'), yaml);
    const result = await cli('import', dir, '--data', target.dataDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it('says so when the path is neither a folder nor an archive', async () => {
    const result = await cli('import', join(work, 'nothing-here.bin'), '--data', target.dataDir);
    expect(result).toMatchObject({ code: 1 });
    expect(result.stderr).toContain('neither a folder nor a .tar.gz');
  });
});

describe('import from the original Flask server', () => {
  let t: TestApp;
  const legacy = mkdtempSync(join(tmpdir(), 'esp-ota-legacy-'));
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    // What kstobbe/esp-update-server writes: yaml.dump of lower-case names, MACs as 12 hex digits.
    writeFileSync(
      join(legacy, 'airpatrol_1_2_0.bin'),
      buildEsp8266App({ strings: ['http://ota/update?dev=airpatrol&ver=v1.2.0'] }),
    );
    writeFileSync(join(legacy, 'broken_1_0_0.bin'), '<html>not firmware</html>');
    writeFileSync(
      join(legacy, 'platforms.yml'),
      [
        'airpatrol:',
        '  downloads: 7',
        '  file: airpatrol_1_2_0.bin',
        "  uploaded: '2020-03-01'",
        '  version: 1.2.0',
        '  whitelist:',
        '  - 5ccf7f123456',
        "  - '001122334455'",
        '  - nonsense',
        'broken:',
        '  downloads: 0',
        '  file: broken_1_0_0.bin',
        '  uploaded: null',
        '  version: 1.0.0',
        '  whitelist: null',
        'empty:',
        '  downloads: 0',
        '  file: null',
        '  uploaded: null',
        '  version: null',
        '  whitelist: null',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => t.stop());

  it('imports platforms, allowlists and binaries, and reports what it could not', async () => {
    const result = await cli('import-legacy', legacy, '--data', t.dataDir);
    expect(result.code).toBe(1); // some entries failed, and the report says which
    expect(result.stdout).toContain('imported  airpatrol 1.2.0 (7 downloads on the old server)');
    expect(result.stdout).toContain('skipped   empty: no firmware recorded');
    expect(result.stderr).toMatch(/failed {4}airpatrol: "nonsense" is not a MAC address/);
    expect(result.stderr).toMatch(/failed {4}broken 1\.0\.0: this is an HTML page/);

    t.app.view.invalidate();
    const allowed = await api<{ devices: { mac: string }[] }>(t.url, 'GET', '/api/v1/platforms/airpatrol/allowlist');
    expect(allowed.json.devices.map((d) => d.mac)).toEqual(['00:11:22:33:44:55', '5C:CF:7F:12:34:56']);
    // The devices' unchanged request still works.
    const response = await fetch(`${t.url}/update?dev=airpatrol&ver=v1.1.0`, {
      headers: { 'x-esp8266-sta-mac': '5C:CF:7F:12:34:56' },
    });
    expect(response.status).toBe(200);
    expect(readdirSync(legacy)).toContain('platforms.yml'); // the old folder is left as it was
  });

  it('says what is wrong with a broken platforms.yml and imports nothing', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'esp-ota-legacy-broken-'));
    writeFileSync(join(broken, 'platforms.yml'), 'airpatrol: [unclosed\n');
    const result = await cli('import-legacy', broken, '--data', t.dataDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('platforms.yml');
    const missing = await cli('import-legacy', join(broken, 'nope'), '--data', t.dataDir);
    expect(missing.stderr).toContain('there is no folder');
  });

  it('is safe to run twice', async () => {
    const again = await cli('import-legacy', legacy, '--data', t.dataDir);
    expect(again.stdout).toContain('skipped   airpatrol 1.2.0: already here');
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalogue } from '../src/features/backup/catalogue-export.js';
import { runCli } from './helpers/cli.js';
import { api, esp8266Request, rawRequest } from './helpers/http.js';
import { describeEachStore, startTestApp, type StoreKind, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';

const DEVICE = '5C:CF:7F:12:34:56';

/** Flags that point an offline command at a test app's storage, on either store. */
function storageFlags(t: TestApp, store: StoreKind): string[] {
  return ['--data', t.dataDir, ...(store === 'postgres' ? ['--database-url', t.app.config.databaseUrl] : [])];
}

/** An export of one platform with one image, as text to edit, and a way to write it back as a folder or archive. */
async function exportOf(source: TestApp, store: StoreKind, work: string) {
  const dir = mkdtempSync(join(work, 'export-'));
  expect((await runCli('export', ...storageFlags(source, store), '--out', dir)).code).toBe(0);
  const yaml = readFileSync(join(dir, 'catalogue.yaml'), 'utf8');
  return {
    yaml,
    /** Writes the edited catalogue into a copy of the export; returns the folder and a .tar.gz of it. */
    variant(edited: string): { folder: string; archive: string } {
      writeFileSync(join(dir, 'catalogue.yaml'), edited);
      const archive = join(work, `variant-${Math.random().toString(36).slice(2)}.tar.gz`);
      tar.c({ gzip: true, file: archive, cwd: dir, sync: true }, ['catalogue.yaml', 'firmware']);
      return { folder: dir, archive };
    },
  };
}

describeEachStore('issue 11.7: import takes only what upload and the API take', (store) => {
  let source: TestApp;
  let target: TestApp;
  let exported: Awaited<ReturnType<typeof exportOf>>;
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-text-'));

  beforeAll(async () => {
    source = await startTestApp(store);
    target = await startTestApp(store);
    await api(source.url, 'POST', '/api/v1/platforms', { name: 'AirPatrol', chip: 'esp8266' });
    await api(source.url, 'POST', '/api/v1/platforms/AirPatrol/allowlist', { mac: DEVICE, label: 'hall' });
    const sketch = buildEsp8266App({ strings: ['ESP-OTA:platform=AirPatrol;version=1.0.0'] });
    expect((await api(source.url, 'POST', '/api/v1/firmware', sketch)).status).toBe(201);
    exported = await exportOf(source, store, work);
  });
  afterAll(async () => {
    await source.stop();
    await target.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const importInto = (path: string) => runCli('import', path, ...storageFlags(target, store));
  const targetCatalogue = async () => (await readCatalogue(target.app.catalogue, 0)).platforms;

  it.each([
    ['a euro sign', '1.0.0€', /version/],
    ['CR/LF', '1.0.0\r\nx-injected: yes', /version/],
    ['a NUL', '1.0\u0000', /version/],
    ['a leading space', ' 1.0.0', /version/],
    ['65 characters', '1'.repeat(65), /version/],
  ])('issue 11.7: refuses an image version with %s, from a folder and a .tar.gz, and applies nothing', async (...c) => {
    const [, version, message] = c;
    // A JSON string is a valid YAML double-quoted scalar, escapes included.
    const edited = exported.yaml.replace('version: 1.0.0', `version: ${JSON.stringify(version)}`);
    expect(edited).not.toBe(exported.yaml);
    const { folder, archive } = exported.variant(edited);
    for (const path of [folder, archive]) {
      const result = await importInto(path);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('nothing was imported');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('printable ASCII');
      expect(await targetCatalogue()).toEqual([]);
    }
  });

  it.each([
    ['a platform name with a line break', (y: string) => y.replace('name: AirPatrol', 'name: "Air\\nPatrol"'), /name/],
    ['an unknown chip', (y: string) => y.replace('chip: esp8266', 'chip: banana'), /chip/],
    ['a MAC that is none', (y: string) => y.replace(/mac: .*/, 'mac: "5C:CF:7F:12:34"'), /MAC/],
    ['a label with a line break', (y: string) => y.replace('label: hall', 'label: "hall\\r\\nway"'), /label/],
    ['a label of 101 characters', (y: string) => y.replace('label: hall', `label: ${'h'.repeat(101)}`), /label/],
  ])('issue 11.7: refuses %s as the API would, and applies nothing', async (_what, edit, message) => {
    const edited = edit(exported.yaml);
    expect(edited).not.toBe(exported.yaml);
    const result = await importInto(exported.variant(edited).folder);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('nothing was imported');
    expect(result.stderr).toMatch(message);
    expect(await targetCatalogue()).toEqual([]);
  });

  it('issue 11.7: the API refuses the same labels', async () => {
    for (const label of ['hall\r\nway', 'h'.repeat(101)]) {
      const response = await api<{ error: string }>(source.url, 'POST', '/api/v1/platforms/AirPatrol/allowlist', {
        mac: '5C:CF:7F:00:00:01',
        label,
      });
      expect(response.status, label).toBe(400);
    }
  });

  it('issue 11.7: imports the unedited export (the edits above were the only problem)', async () => {
    const result = await importInto(exported.variant(exported.yaml).archive);
    expect(result.stderr).toMatch(/^(data folder|database): [^\n]*\n$/); // which storage it used, and nothing else
    expect(result.code).toBe(0);
  });
});

describeEachStore('issue 11.7: a device check never fails on a stored version', (store) => {
  let t: TestApp;
  let host: string;

  beforeAll(async () => {
    t = await startTestApp(store);
    host = new URL(t.url).host;
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'AirPatrol', accessMode: 'open' });
    const sketch = buildEsp8266App({ strings: ['ESP-OTA:platform=AirPatrol;version=1.0.0'] });
    expect((await api(t.url, 'POST', '/api/v1/firmware', sketch)).status).toBe(201);
  });
  afterAll(() => t.stop());

  // Rows written before versions were checked everywhere (or by hand) may hold anything; no header may throw on them.
  it.each([
    ['a euro sign', '2.0.0€'],
    ['CR/LF', '2.0.0\r\nx-injected: yes'],
    ['a lone surrogate', '2.0.0\ud800'],
    ['Latin-1', '2.0.0é'],
  ])('issue 11.7: serves and announces an image whose stored version holds %s', async (_what, version) => {
    await t.app.db.updateTable('images').set({ version }).execute();
    t.app.view.invalidate();
    for (const [uri, mode] of [
      ['/update?dev=AirPatrol&ver=1.0.0', 'sketch'],
      ['/update?dev=AirPatrol&ver=1.0.0', 'version'],
      ['/ota/AirPatrol/app.bin', 'sketch'],
    ] as const) {
      const response = await rawRequest(t.url, esp8266Request(host, uri, { mac: DEVICE, mode }));
      expect(response.status, `${uri} ${mode}`).toBe(200);
      const announced = response.headers.get('x-version')?.[0] ?? '';
      expect(announced).toMatch(/^2\.0\.0%[0-9A-F]{2}/);
      expect(response.raw.toString('latin1')).not.toMatch(/^x-injected/im);
    }
  });
});

describe('issue 11.7: legacy import', () => {
  let t: TestApp;
  const legacy = mkdtempSync(join(tmpdir(), 'esp-ota-legacy-text-'));
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t.stop();
    rmSync(legacy, { recursive: true, force: true });
  });

  it('issue 11.7: refuses the versions upload refuses, and keeps no image of them', async () => {
    writeFileSync(join(legacy, 'sensor.bin'), buildEsp8266App({ strings: ['sensor'] }));
    writeFileSync(join(legacy, 'platforms.yml'), 'sensor:\n  file: sensor.bin\n  version: "1.0€"\n  whitelist: null\n');
    const result = await runCli('import-legacy', legacy, '--data', t.dataDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/failed {4}sensor 1\.0€: .*printable ASCII/);
    expect((await t.app.catalogue.stores.images.listAll()).length).toBe(0);
  });
});

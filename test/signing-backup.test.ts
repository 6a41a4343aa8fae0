import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { api } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { OpenSsl, type TestKey } from './synthetic/openssl.js';

/**
 * A platform's trusted keys and flash mode survive `esp-ota export` / `import` (issue 17): a restore that dropped
 * them would let unsigned or foreign uploads through to boards that reject them after the whole download.
 */
describe('export and import keep trusted keys and the flash mode', () => {
  let source: TestApp;
  let target: TestApp;
  let openssl: OpenSsl;
  let key: TestKey;
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-signing-backup-'));
  const state = async (t: TestApp) => ({
    keys: (
      await api<{ keys: { digest: string; label: string | null }[] }>(t.url, 'GET', '/api/v1/platforms/Vault/keys')
    ).json.keys.map((k) => ({ digest: k.digest, label: k.label })),
    flashMode: (await api<{ flashMode: string | null }>(t.url, 'GET', '/api/v1/platforms/Vault')).json.flashMode,
  });

  beforeAll(async () => {
    openssl = OpenSsl.create();
    key = openssl.rsaKey(2048);
    source = await startTestApp('sqlite');
    target = await startTestApp('sqlite');
    await api(source.url, 'POST', '/api/v1/platforms', { name: 'Vault', accessMode: 'open' });
    await api(source.url, 'PATCH', '/api/v1/platforms/Vault', { flashMode: 'dout' });
    const added = await api(source.url, 'POST', '/api/v1/platforms/Vault/keys', { pem: key.publicPem, label: 'ci' });
    expect(added.status).toBe(201);
  });
  afterAll(async () => {
    await source.stop();
    await target.stop();
    openssl?.dispose();
  });

  it('round-trips them, and a second import changes nothing', async () => {
    const out = join(work, 'export');
    expect((await runCli('export', '--data', source.dataDir, '--out', out)).code).toBe(0);
    expect(readFileSync(join(out, 'catalogue.yaml'), 'utf8')).not.toMatch(/PRIVATE/);
    expect((await runCli('import', out, '--data', target.dataDir)).code).toBe(0);
    target.app.view.invalidate();
    const expected = await state(source);
    expect(expected).toMatchObject({ flashMode: 'dout', keys: [{ label: 'ci' }] });
    expect(await state(target)).toEqual(expected);
    expect((await runCli('import', out, '--data', target.dataDir)).code).toBe(0);
    expect(await state(target)).toEqual(expected);
  });

  it('refuses an export whose key is private material or not a key, naming it, and imports nothing', async () => {
    const yaml = readFileSync(join(work, 'export', 'catalogue.yaml'), 'utf8');
    const broken = join(work, 'broken');
    expect((await runCli('export', '--data', source.dataDir, '--out', broken)).code).toBe(0);
    writeFileSync(
      join(broken, 'catalogue.yaml'),
      yaml
        .replace(/-----BEGIN PUBLIC KEY-----/, '-----BEGIN PRIVATE KEY-----')
        .replace('flashMode: dout', 'flashMode: fast'),
    );
    const result = await runCli('import', broken, '--data', target.dataDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing was imported');
    expect(result.stderr).toContain('PRIVATE key');
    expect(result.stderr).toContain('fast');
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, TEST_TOKEN } from './helpers/http.js';
import { runCliProcess } from './helpers/cli-run.js';
import { describe } from 'vitest';
import { startTestApp, type TestApp } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { OpenSsl, type TestKey } from './synthetic/openssl.js';
import { publicKeyOf, signEsp8266 } from './synthetic/signed-images.js';

/**
 * The CLI exposes what the REST API does for signing (issue 17 §5): keys, signature states, refusals. It speaks only
 * the REST API, so one store is enough (the stores are covered by platform-keys.test.ts).
 */
describe('esp-ota key and signatures on the command line', () => {
  let t: TestApp;
  let dir: string;
  let openssl: OpenSsl;
  let key: TestKey;
  const cli = (...args: string[]) =>
    runCliProcess(args, { env: { ESP_OTA_URL: t.url, ESP_OTA_TOKEN: TEST_TOKEN }, cwd: dir });

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'esp-ota-key-cli-'));
    openssl = OpenSsl.create();
    key = openssl.rsaKey(2048);
    writeFileSync(join(dir, 'public.pem'), key.publicPem);
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Cli', accessMode: 'open' });
  });
  afterAll(async () => {
    await t?.stop();
    openssl?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'adds and lists keys, shows signatures of uploads and images, and refuses an unsigned upload by its code',
    { timeout: 180_000 },
    async () => {
      const added = await cli('key', 'add', 'Cli', 'public.pem', '--label', 'release');
      expect(added.code).toBe(0);
      expect(added.stdout).toContain(publicKeyOf(key).digest);
      expect((await cli('key', 'list', 'Cli')).stdout).toContain(publicKeyOf(key).digest);

      writeFileSync(join(dir, 'signed.bin'), signEsp8266(openssl, key, buildEsp8266App({ strings: ['cli 1.0.0'] })));
      const up = await cli('upload', 'signed.bin', '--platform', 'Cli', '--version', '1.0.0');
      expect(up.code).toBe(0);
      expect(up.stdout).toMatch(/signature: verified rsa-pkcs1-sha256 \(esp8266\) key [0-9a-f]{12}/);
      expect((await cli('firmware', 'list', 'Cli')).stdout).toMatch(/verified rsa-pkcs1-sha256/);

      writeFileSync(join(dir, 'plain.bin'), buildEsp8266App({ strings: ['cli 1.0.1'] }));
      const refused = await cli('upload', 'plain.bin', '--platform', 'Cli', '--version', '1.0.1');
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/unsigned-image|not signed/);

      const id = JSON.parse((await cli('key', 'list', 'Cli', '--json')).stdout)[0].id as number;
      expect((await cli('key', 'rm', 'Cli', String(id))).code).toBe(0);
      expect((await cli('key', 'list', 'Cli')).stdout).toMatch(/trusts no key/);
    },
  );
});

import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliProcess } from './helpers/cli-run.js';
import { buildEsp8266App } from './synthetic/image-builder.js';

/**
 * Issue 14: the commands that open the data folder themselves (token, user, export, import, import-legacy) say which
 * one they used and never make a new empty one unless asked with --init.
 */
describe('commands on the data folder', { timeout: 180_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-offline-'));

  it('token create run from another folder refuses to make ./data, and names the folder it looked in', async () => {
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    const result = await runCliProcess(['token', 'create'], { cwd: elsewhere });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe(''); // no token the running server would reject
    expect(result.stderr).toContain(`data folder: ${join(elsewhere, 'data')}`);
    expect(result.stderr).toContain(`there is no esp-ota database in ${join(elsewhere, 'data')}`);
    expect(result.stderr).toContain('--init');
    expect(existsSync(join(elsewhere, 'data'))).toBe(false);
    for (const command of [
      ['user', 'list'],
      ['export', '--out', join(work, 'out')],
    ]) {
      const refused = await runCliProcess(command, { cwd: elsewhere });
      expect(refused.code, command.join(' ')).toBe(2);
    }
    expect(existsSync(join(elsewhere, 'data'))).toBe(false);

    const init = await runCliProcess(['token', 'create', '--init', '--data', join(work, 'new')]);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/^eota_\S+\n$/);
    expect(init.stderr).toContain(`data folder: ${join(work, 'new')} (SQLite ${join(work, 'new', 'esp-ota.sqlite')})`);
    const list = await runCliProcess(['token', 'list', '--data', join(work, 'new')]);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+ROLE\s+STATE\n1\s+cli\s+uploader\s+never used\n$/);
    expect(list.stderr).toContain(`data folder: ${join(work, 'new')}`);
  });

  it('import-legacy takes the original server’s app folder, and creates no account and no web application', async () => {
    const app = join(work, 'esp-update-server');
    mkdirSync(join(app, 'bin'), { recursive: true });
    writeFileSync(join(app, 'server.py'), '# the Flask app\n');
    writeFileSync(join(app, 'bin', 'porch_1_0_0.bin'), buildEsp8266App({ strings: ['porch firmware'] }));
    writeFileSync(
      join(app, 'bin', 'platforms.yml'),
      'porch:\n  downloads: 3\n  file: porch_1_0_0.bin\n  version: 1.0.0\n  whitelist:\n  - 5ccf7f123456\n',
    );
    const data = join(work, 'legacy-data');
    const refused = await runCliProcess(['import-legacy', app, '--data', data]);
    expect(refused.code).toBe(2);
    expect(existsSync(join(data, 'esp-ota.sqlite'))).toBe(false);

    const result = await runCliProcess(['import-legacy', app, '--data', data, '--init'], {
      env: { ESP_OTA_LOG_LEVEL: 'info' },
    });
    expect(result.stderr).toContain(`reading ${join(app, 'bin', 'platforms.yml')}`);
    expect(result.stdout).toContain('imported  platform porch');
    expect(result.stdout).toContain('imported  porch: device 5ccf7f123456');
    expect(result.stdout).toContain('imported  porch 1.0.0 (3 downloads on the old server)');
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('password');
    expect(result.stdout + result.stderr).not.toContain('listening');
    expect(JSON.parse((await runCliProcess(['user', 'list', '--json', '--data', data])).stdout)).toEqual([]);

    // The bin/ folder itself works as before; a folder with neither says what it wants.
    const again = await runCliProcess(['import-legacy', join(app, 'bin'), '--data', data]);
    expect(again.stdout).toContain('skipped   porch 1.0.0: already here');
    const wrong = await runCliProcess(['import-legacy', work, '--data', data]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`${work} has no platforms.yml, nor a bin/platforms.yml`);
  });
});

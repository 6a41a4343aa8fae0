import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliProcess } from './helpers/cli-run.js';
import { startServerProcess } from './helpers/server-process.js';

/** Issue 14: `esp-ota serve` that cannot start says why in one sentence, exits non-zero, and uses nothing up. */
describe('esp-ota serve start-up failures', { timeout: 120_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'esp-ota-serve-'));
  const blockers: Server[] = [];
  afterAll(() => blockers.forEach((b) => b.close()));
  const serve = (args: string[], options: { obeyFilePermissions?: boolean } = {}) =>
    runCliProcess(['serve', '--host', '127.0.0.1', ...args], { env: { ESP_OTA_LOG_LEVEL: 'warn' }, ...options });

  it('a port clash names the port, shows no password, and the next start creates the admin', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const data = join(work, 'clash');
    const clash = await serve(['--data', data, '--port', String(port)]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(`port ${port} on 127.0.0.1 is already in use (EADDRINUSE)`);
    expect(clash.stderr).not.toContain('password');
    expect(clash.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(JSON.parse((await runCliProcess(['user', 'list', '--json', '--data', data])).stdout)).toEqual([]);

    const server = await startServerProcess(['--data', data], { ESP_OTA_ADMIN_PASSWORD: '' });
    try {
      // Created just after the server listens: its first answer may come a moment before.
      for (let i = 0; i < 100 && !/created the account/.test(server.output()); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(server.output()).toMatch(/created the account "admin" with password \S{20}/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('a data folder that cannot be created (under /proc) is one sentence, at once, not a busy loop', async () => {
    const started = Date.now();
    const result = await serve(['--data', '/proc/esp-ota-test/data', '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'esp-ota serve: cannot create the data folder /proc/esp-ota-test/data (ENOENT): create it yourself, or choose another with --data or ESP_OTA_DATA',
    );
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it('an unwritable data folder names the folder and the fix', async () => {
    const data = join(work, 'read-only');
    mkdirSync(data);
    chmodSync(data, 0o555);
    const result = await serve(['--data', data, '--port', '0'], { obeyFilePermissions: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot write in the data folder ${data} (EACCES)`);
    expect(result.stderr).toContain('write access');
  });

  it('a database that cannot be opened names the file and what to do', async () => {
    const data = join(work, 'garbage');
    mkdirSync(data);
    writeFileSync(join(data, 'esp-ota.sqlite'), 'this is not a database, it only has the name of one'.repeat(100));
    const result = await serve(['--data', data, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot open the database ${join(data, 'esp-ota.sqlite')} (SQLITE_NOTADB`);
    expect(result.stderr).toContain('restore a backup');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('PostgreSQL out of reach names the URL without its password', async () => {
    const result = await serve([
      '--data',
      join(work, 'pg'),
      '--port',
      '0',
      '--database-url',
      'postgres://esp:secret-password@127.0.0.1:9/esp',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'cannot open the PostgreSQL database postgres://esp:***@127.0.0.1:9/esp (connect ECONNREFUSED',
    );
    expect(result.stderr).not.toContain('secret-password');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const cli = runCli;

describe('esp-ota user and token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(() => t.stop());

  it('creates a token the running server accepts, and revokes it', async () => {
    const created = await cli('token', 'create', '--role', 'uploader', '--name', 'ci', '--data', t.dataDir);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^eota_/);
    const use = () => fetch(`${t.url}/api/v1/platforms`, { headers: { authorization: `Bearer ${token}` } });
    expect((await use()).status).toBe(200);
    expect((await cli('token', 'list', '--data', t.dataDir)).stdout).toMatch(/\s+ci\s+uploader\s+used /);
    const id = /token (\d+)/.exec(created.stderr)![1]!;
    expect((await cli('token', 'revoke', id, '--data', t.dataDir)).code).toBe(0);
    expect((await use()).status).toBe(401);
  });

  it('adds users with roles, changes passwords, refuses weak ones and the last admin’s removal', async () => {
    const added = await cli(
      'user',
      'add',
      'Carol',
      '--role',
      'viewer',
      '--password',
      'carol-password-1',
      '--data',
      t.dataDir,
    );
    expect(added.stdout).toContain('added carol (viewer)');
    expect((await cli('user', 'list', '--data', t.dataDir)).stdout).toMatch(/^admin\s+admin$/m);
    expect((await cli('user', 'passwd', 'carol', '--password', 'short', '--data', t.dataDir)).stderr).toContain(
      '10 to 200 characters',
    );
    const generated = await cli('user', 'passwd', 'carol', '--data', t.dataDir);
    expect(generated.stdout).toMatch(/new password: \S{20}/);
    const lastAdmin = await cli('user', 'rm', 'admin', '--data', t.dataDir);
    expect(lastAdmin).toMatchObject({ code: 1 });
    expect(lastAdmin.stderr).toContain('the last admin cannot be removed');
    expect((await cli('user', 'rm', 'carol', '--data', t.dataDir)).code).toBe(0);
  });
});

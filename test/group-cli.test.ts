import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, TEST_TOKEN } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** `esp-ota …` as a process of its own (test/helpers/cli-process.ts), with stdin when given. */
function esp(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli-process.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ESP_OTA_URL: '', ESP_OTA_TOKEN: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end(stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr: stderr.replace(/\n?maxRSS=\d+\n$/, '') });
    });
  });
}

describe('esp-ota group / device pin, as a process against a running server', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'esp-ota-group-cli-'));
  /** In this process (fast); `proc` runs the same in a process of its own, for stdin and exit codes. */
  const cli = (args: string[]) => runCli('--server', t.url, '--token', TEST_TOKEN, ...args);
  const proc = (args: string[], stdin?: string) => esp(['--server', t.url, '--token', TEST_TOKEN, ...args], stdin);

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Porch', accessMode: 'open' });
    for (const version of ['1.0.0', '1.1.0']) {
      const bytes = buildEsp8266App({ strings: [`ESP-OTA:platform=Porch;version=${version}`, 'x'.repeat(99)] });
      expect((await api(t.url, 'POST', '/api/v1/firmware', bytes)).status).toBe(201);
    }
    await api(t.url, 'POST', '/api/v1/platforms/Porch/allowlist', { mac: '5CCF7F0000B1', label: 'bench board' });
  }, 60_000);
  afterAll(() => t.stop());

  it('creates, fills, pins, excludes, lists and deletes a group', { timeout: 300_000 }, async () => {
    expect((await cli(['group', 'list', 'Porch'])).stdout).toBe('no groups on Porch\n');
    expect((await cli(['group', 'add', 'Porch', 'lab'])).stdout).toBe('created group lab on Porch\n');

    // From arguments, a file and stdin; the file mixes separators and comments.
    expect((await cli(['group', 'members', 'add', 'Porch', 'lab', '5c:cf:7f:00:00:01'])).stdout).toBe(
      'group lab now has 1 devices\n',
    );
    const file = join(dir, 'macs.txt');
    writeFileSync(file, '# lab boards\n5CCF7F000002, 5ccf.7f00.0003\n5C-CF-7F-00-00-04 # the spare\n');
    expect((await cli(['group', 'members', 'add', 'Porch', 'lab', '--file', file])).stdout).toBe(
      'group lab now has 4 devices\n',
    );
    expect((await proc(['group', 'members', 'add', 'Porch', 'lab', '--file', '-'], '5CCF7F000005\n')).stdout).toBe(
      'group lab now has 5 devices\n',
    );
    expect((await cli(['group', 'members', 'add', 'Porch', 'lab', '--label', 'bench'])).stdout).toBe(
      'group lab now has 6 devices\n',
    );
    const bad = await cli(['group', 'members', 'add', 'Porch', 'lab', 'nonsense']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"nonsense"');
    expect((await cli(['group', 'members', 'rm', 'Porch', 'lab', '5CCF7F000005', '5CCF7F0000B1'])).stdout).toBe(
      'group lab now has 4 devices\n',
    );

    expect((await cli(['group', 'set', 'Porch', 'lab', '--pin', '1.0.0', '--excluded'])).stdout).toBe(
      'group lab: excluded from rollouts, pinned to 1.0.0\n',
    );
    expect((await proc(['group', 'list', 'Porch'])).stdout).toBe(
      'NAME  MEMBERS  EXCLUDED  PINNED\nlab   4        yes       1.0.0\n',
    );
    const shown = await cli(['group', 'show', 'Porch', 'lab']);
    expect(shown.stdout).toContain('group lab on Porch: 4 devices, excluded from rollouts, pinned to 1.0.0\nMAC\n');
    expect(shown.stdout).toContain('5C:CF:7F:00:00:04\n');
    const listed = JSON.parse((await cli(['group', 'list', 'Porch', '--json'])).stdout) as unknown;
    expect(listed).toEqual([
      expect.objectContaining({ name: 'lab', members: 4, excluded: true, pinnedVersion: '1.0.0' }),
    ]);

    const refused = await cli(['group', 'set', 'Porch', 'lab']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nothing to change');
    expect((await cli(['group', 'set', 'Porch', 'lab', '--unpin', '--included'])).stdout).toBe(
      'group lab: included in rollouts, not pinned\n',
    );
    expect((await cli(['group', 'rm', 'Porch', 'lab'])).stdout).toBe('deleted group lab on Porch\n');
    const gone = await cli(['group', 'show', 'Porch', 'lab']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no group named "lab"');
  });

  it('pins one device and unpins it back to automatic', { timeout: 200_000 }, async () => {
    expect((await cli(['device', 'pin', '5ccf7f0000c1', '1.0.0', '--platform', 'Porch'])).stdout).toBe(
      'pinned 5C:CF:7F:00:00:C1 to Porch 1.0.0\n',
    );
    expect((await cli(['device', 'pins', '5ccf7f0000c1'])).stdout).toBe(
      'PLATFORM  GROUP      EXCLUDED  PINNED\nPorch     (own pin)  -         1.0.0\n',
    );
    expect((await cli(['device', 'unpin', '5ccf7f0000c1'])).stdout).toBe('unpinned 5ccf7f0000c1: back to automatic\n');
    expect((await cli(['device', 'pins', '5ccf7f0000c1'])).stdout).toBe('5ccf7f0000c1 is in no group and not pinned\n');
    const never = await proc(['device', 'pin', '5ccf7f0000c2', '1.0.0']);
    expect(never.code).toBe(1);
    expect(never.stderr).toContain('never checked in');
  });
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, TEST_TOKEN } from './helpers/http.js';
import { startTestApp, type TestApp } from './helpers/test-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `esp-ota …` as a process of its own, as a person runs it. */
function esp(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli-process.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('esp-ota release and esp-ota rollout, as processes against a running server', () => {
  let t: TestApp;
  const cli = (...args: string[]) => esp('--server', t.url, '--token', TEST_TOKEN, ...args);

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    await api(t.url, 'POST', '/api/v1/platforms', { name: 'Shed', accessMode: 'open' });
    const v1 = await api<{ image: { id: number } }>(
      t.url,
      'POST',
      '/api/v1/firmware',
      buildEsp8266App({ strings: ['ESP-OTA:platform=Shed;version=1.0.0'] }),
    );
    await api(t.url, 'POST', `/api/v1/firmware/${v1.json.image.id}/release`);
    await api(t.url, 'POST', '/api/v1/firmware', buildEsp8266App({ strings: ['ESP-OTA:platform=Shed;version=1.1.0'] }));
  });
  afterAll(() => t.stop());

  it(
    'starts a rollout with stages and a canary, shows it, and steers it to completion',
    { timeout: 240_000 },
    async () => {
      const started = await cli('release', 'Shed', '1.1.0', '--stages', '10,100', '--canary', '5c:cf:7f:00:00:01');
      expect(started.stderr.replace(/\s*maxRSS=\d+\s*/, '')).toBe('');
      expect(started.code).toBe(0);
      expect(started.stdout).toContain('Shed: 1.0.0 → 1.1.0, running, stage 1 of 3 (the canary), started by token:');

      const status = await cli('rollout', 'status', 'Shed', '--json');
      const json = JSON.parse(status.stdout) as { state: string; canary: { macs: string[] }; devices: object };
      expect(json).toMatchObject({ state: 'running', stages: [10, 100], canary: { macs: ['5C:CF:7F:00:00:01'] } });
      expect(json.devices).toMatchObject({ pending: 0, updated: 0 });

      const paused = await cli('rollout', 'pause', 'Shed', '--reason', 'board 3 reboots');
      expect(paused.stdout).toContain('paused: board 3 reboots');
      const stale = await cli('rollout', 'advance', 'Shed', '--stage', '2');
      expect([stale.code, stale.stderr]).toEqual([1, expect.stringContaining('at stage 1 now, not 2') as string]);
      expect((await cli('rollout', 'resume', 'Shed')).code).toBe(0);
      expect((await cli('rollout', 'advance', 'Shed', '--stage', '1')).stdout).toContain('stage 2 of 3 (10 %)');
      await cli('rollout', 'advance', 'Shed');
      const done = await cli('rollout', 'advance', 'Shed', '--json');
      expect(JSON.parse(done.stdout)).toMatchObject({ state: 'completed' });
      const again = await cli('rollout', 'abort', 'Shed');
      expect([again.code, again.stderr]).toEqual([
        1,
        expect.stringContaining('no rollout running or paused') as string,
      ]);
    },
  );

  it('refuses a bad stage list before asking the server', async () => {
    const result = await cli('release', 'Shed', '1.1.0', '--stages', '10,lots');
    expect([result.code, result.stderr]).toEqual([1, expect.stringContaining('--stages is a list') as string]);
  });
});

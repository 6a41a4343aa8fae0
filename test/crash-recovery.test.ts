import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, AUTH } from './helpers/http.js';
import { startServerProcess } from './helpers/server-process.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const ROUNDS = 4;

/**
 * SIGKILL at a random moment while uploads and downloads are in flight, then restart on the same data folder:
 * every acknowledged upload must be there with its exact bytes, and nothing may point at a missing file.
 */
describe('crash recovery (SIGKILL during uploads and downloads)', () => {
  const data = mkdtempSync(join(tmpdir(), 'esp-ota-crash-'));
  afterAll(() => rmSync(data, { recursive: true, force: true }));
  const acknowledged = new Map<string, string>(); // version → md5 of the uploaded bytes

  it('keeps every acknowledged upload intact across kills', async () => {
    let server = await startServerProcess(['--data', data]);
    await api(server.url, 'POST', '/api/v1/platforms', { name: 'Crashy', accessMode: 'open' });

    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      const uploader = async (worker: number) => {
        for (let n = 0; !stop; n++) {
          const version = `${round}.${worker}.${n}`;
          const image = buildEsp8266App({
            strings: [`ESP-OTA:platform=Crashy;version=${version}`, 'p'.repeat(20_000 + n * 97)],
          });
          try {
            const response = await api(server.url, 'POST', '/api/v1/firmware', image);
            if (response.status === 201) acknowledged.set(version, md5(image));
          } catch {
            return; // the connection died with the server: not acknowledged
          }
        }
      };
      const downloader = async () => {
        while (!stop) {
          try {
            const response = await fetch(`${server.url}/update?dev=Crashy&ver=0.0.0`, {
              headers: { 'x-esp8266-sta-mac': '02:00:00:00:00:01', 'x-esp8266-version': '0.0.0' },
            });
            const body = Buffer.from(await response.arrayBuffer());
            if (response.status === 200) expect(md5(body)).toBe(response.headers.get('x-md5'));
          } catch {
            return;
          }
        }
      };
      const load = Promise.all([uploader(1), uploader(2), uploader(3), downloader(), downloader()]);
      // Kill at a random moment once this round has had an upload acknowledged (on a busy machine the first one can
      // take longer than any fixed delay), so every round proves something.
      const before = acknowledged.size;
      while (acknowledged.size === before) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, Math.random() * 600));
      server.child.kill('SIGKILL');
      await server.exited;
      stop = true;
      await load;
      server = await startServerProcess(['--data', data]);

      const listed = await api<{ images: { id: number; version: string; md5: string }[] }>(
        server.url,
        'GET',
        '/api/v1/platforms/Crashy/firmware',
      );
      const byVersion = new Map(listed.json.images.map((i) => [i.version, i]));
      for (const [version, digest] of acknowledged) {
        expect(byVersion.get(version)?.md5, `acknowledged upload ${version}`).toBe(digest);
      }
      // Every row's file is there and whole (this includes rows committed but not acknowledged before the kill).
      for (const image of listed.json.images) {
        const download = await fetch(`${server.url}/api/v1/firmware/${image.id}/download`, { headers: AUTH });
        expect(download.status, `image ${image.version}`).toBe(200);
        expect(md5(Buffer.from(await download.arrayBuffer()))).toBe(image.md5);
      }
    }
    expect(acknowledged.size).toBeGreaterThan(ROUNDS);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    // Leftover staging files are only ever temporary: none is visible under a blob key.
    const staged = readdirSync(join(data, 'blobs', 'staging'));
    expect(staged.every((name) => name.endsWith('.part'))).toBe(true);
  }, 120_000);
});

import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { api } from './helpers/http.js';
import { startServerProcess, type ProcessLimits, type ServerProcess } from './helpers/server-process.js';
import { createPgDatabase, describeEachStore, type StoreKind } from './helpers/test-app.js';
import { buildEsp8266App } from './synthetic/image-builder.js';

const MiB = 1024 * 1024;

interface Setup {
  server: ServerProcess;
  data: string;
  /** Where uploads are staged, and (SQLite) where committed blobs live. */
  staging: string;
  blobs: string | undefined;
}

describeEachStore('issue 11 (storage): uploads when the storage fails', (store: StoreKind) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(limits: ProcessLimits): Promise<Setup> {
    const data = mkdtempSync(join(tmpdir(), 'esp-ota-storage-'));
    cleanups.push(() => rmSync(data, { recursive: true, force: true }));
    const pg = store === 'postgres' ? await createPgDatabase() : undefined;
    if (pg) cleanups.push(pg.drop);
    const server = await startServerProcess(['--data', data, ...(pg ? ['--database-url', pg.url] : [])], {}, limits);
    cleanups.push(async () => {
      server.child.kill('SIGTERM');
      await server.exited;
    });
    expect((await api(server.url, 'POST', '/api/v1/platforms', { name: 'AirPatrol' })).status).toBe(201);
    return {
      server,
      data,
      staging: pg ? join(data, 'staging') : join(data, 'blobs', 'staging'),
      blobs: pg ? undefined : join(data, 'blobs'),
    };
  }

  const sketch = (version: string) => buildEsp8266App({ strings: [`ESP-OTA:platform=AirPatrol;version=${version}`] });
  const images = async (url: string) =>
    (await api<{ images: unknown[] }>(url, 'GET', '/api/v1/platforms/AirPatrol/firmware')).json.images;

  it('issue 11 (storage): a full disk answers 507 storage-full with a sentence and keeps nothing', async () => {
    // The real mechanism, without mounting a small file system (which needs privileges): the server runs with
    // RLIMIT_FSIZE (`ulimit -f`) of 8 MiB, so writing past 8 MiB into any file fails in the kernel with EFBIG, as a
    // write to a full disk fails with ENOSPC. The database (a few hundred KiB) stays well below it.
    const { server, staging } = await start({ fileSizeBytes: 8 * MiB });
    const big = Buffer.concat([sketch('1.0.0'), Buffer.alloc(10 * MiB)]);
    const refused = await api<{ error: string; message: string }>(server.url, 'POST', '/api/v1/firmware', big);
    expect(refused.status, JSON.stringify(refused.json)).toBe(507);
    expect(refused.json.error).toBe('storage-full');
    expect(refused.json.message).toMatch(/storage is full.*not kept/);
    expect(readdirSync(staging)).toEqual([]);
    expect(await images(server.url)).toEqual([]);
    // The server is fine, and takes what fits.
    expect((await api(server.url, 'POST', '/api/v1/firmware', sketch('1.0.1'))).status).toBe(201);
    // The operator learns why from the log (written within a quarter of a second).
    await vi.waitFor(() => expect(server.output()).toMatch(/storage is full.*EFBIG|EFBIG.*storage is full/s), {
      timeout: 5000,
    });
  }, 90_000); // a server process of its own starts in seconds, more on a busy machine

  it('issue 11 (storage): a read-only firmware folder answers 503 storage-unavailable and keeps nothing', async () => {
    const setup = await start({ obeyFilePermissions: true });
    const { server, staging, blobs } = setup;
    const readOnly = (path: string) => {
      const mode = statSync(path).mode & 0o777;
      chmodSync(path, 0o555);
      cleanups.push(() => chmodSync(path, mode));
    };
    let version = 0;
    const upload = () =>
      api<{ error: string; message: string }>(server.url, 'POST', '/api/v1/firmware', sketch(`2.0.${version++}`));
    if (blobs) {
      // Staging still works; moving the finished file into the blob folder does not.
      readOnly(blobs);
      const refused = await upload();
      expect(refused.status, JSON.stringify(refused.json)).toBe(503);
      expect(refused.json.error).toBe('storage-unavailable');
      expect(readdirSync(staging)).toEqual([]);
    }
    readOnly(staging);
    const refused = await upload();
    expect(refused.status, JSON.stringify(refused.json)).toBe(503);
    expect(refused.json).toMatchObject({ error: 'storage-unavailable' });
    expect(refused.json.message).toMatch(/cannot write.*not kept/);
    expect(readdirSync(staging)).toEqual([]);
    expect(await images(server.url)).toEqual([]);
  }, 90_000);
});

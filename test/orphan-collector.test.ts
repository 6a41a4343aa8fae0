import { createHash } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectOrphanBlobs } from '../src/blobs/blob-collector.js';
import { buildEsp8266App } from './synthetic/image-builder.js';
import { api, AUTH } from './helpers/http.js';
import { describeEachStore, startTestApp, type TestApp } from './helpers/test-app.js';

const GRACE_MS = 60_000;
const quiet = { info: () => undefined };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The collector reads which blobs are referenced, then deletes the others. An upload of the same bytes that lands
 * between the two (the "delete it, then upload the same file again" flow) must not lose its file. The tests run
 * the upload inside the collector's reading of the references, so the interleaving is the same on every run.
 */
describeEachStore('issue 11.9: the orphan collector and a re-upload of the same file', (store) => {
  let t: TestApp;
  let platform = 0;
  beforeAll(async () => {
    t = await startTestApp(store, { orphanGraceMs: GRACE_MS });
  });
  afterAll(() => t.stop());

  /** A platform with 1.1.0 released and 1.0.0 uploaded and deleted again: the bytes of 1.0.0 are an orphan. */
  async function orphanedImage() {
    const name = `Orphan${platform++}`;
    expect((await api(t.url, 'POST', '/api/v1/platforms', { name, accessMode: 'open' })).status).toBe(201);
    const bytes = buildEsp8266App({ strings: [`ESP-OTA:platform=${name};version=1.0.0`] });
    const first = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', bytes);
    expect(first.status).toBe(201);
    const newer = buildEsp8266App({ strings: [`ESP-OTA:platform=${name};version=1.1.0`] });
    expect((await api(t.url, 'POST', '/api/v1/firmware', newer)).status).toBe(201);
    expect((await api(t.url, 'DELETE', `/api/v1/firmware/${first.json.image.id}`)).status).toBe(204);
    return { name, bytes, key: sha256(bytes) };
  }

  /** Makes a blob look committed an hour ago, past the grace period. */
  async function age(key: string) {
    const anHourAgo = Date.now() - 3_600_000;
    if (store === 'postgres') {
      await sql`update blobs set committed_at = ${anHourAgo} where key = ${key}`.execute(t.app.db);
    } else {
      const when = new Date(anHourAgo);
      await utimes(join(t.dataDir, 'blobs', key.slice(0, 2), key), when, when);
    }
  }

  it('keeps the file of an image uploaded again after the references were read', async () => {
    const { name, bytes, key } = await orphanedImage();
    await age(key);
    let reuploaded: number | undefined;
    await collectOrphanBlobs(
      t.app.blobs,
      async () => {
        const referenced = await t.app.catalogue.stores.images.referencedBlobs();
        expect(referenced.has(key)).toBe(false);
        const again = await api<{ image: { id: number } }>(t.url, 'POST', '/api/v1/firmware', bytes);
        expect(again.status).toBe(201);
        reuploaded = again.json.image.id;
        return referenced; // what the collector decided on: from before the upload
      },
      GRACE_MS,
      // Later than the grace period after the new upload too: only its row can save the file.
      Date.now() + 2 * GRACE_MS,
      quiet,
    );
    const download = await fetch(`${t.url}/api/v1/firmware/${reuploaded}/download`, { headers: AUTH });
    expect(download.status).toBe(200);
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(key);
    expect((await api(t.url, 'GET', `/api/v1/platforms/${name}/firmware`)).status).toBe(200);
  });

  it('keeps a file committed again (its row still to come) after the references were read', async () => {
    const { key, bytes } = await orphanedImage();
    await age(key);
    await collectOrphanBlobs(
      t.app.blobs,
      async () => {
        const referenced = await t.app.catalogue.stores.images.referencedBlobs();
        // An upload of the same bytes has committed its file and not yet its row.
        const staged = await t.app.blobs.stage(Readable.from([bytes]), bytes.length);
        await staged.commit();
        await staged.discard();
        return referenced;
      },
      GRACE_MS,
      Date.now(),
      quiet,
    );
    expect(await t.app.blobs.exists(key)).toBe(true);
  });

  it('still removes an orphan nobody uploads again', async () => {
    const { key } = await orphanedImage();
    await age(key);
    await collectOrphanBlobs(
      t.app.blobs,
      () => t.app.catalogue.stores.images.referencedBlobs(),
      GRACE_MS,
      Date.now(),
      quiet,
    );
    expect(await t.app.blobs.exists(key)).toBe(false);
  });
});

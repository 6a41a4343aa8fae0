import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../blobs/fs-blob-store.js';
import { ImageCache } from './image-cache.js';

/** A real file store that counts how often the bytes of a blob are read whole. */
class CountingBlobStore extends FsBlobStore {
  reads = 0;
  override read(key: string): Promise<Buffer> {
    this.reads++;
    return super.read(key);
  }
}

const KiB = 1024;

describe('image cache (issue 11)', () => {
  let dir: string;
  let blobs: CountingBlobStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'esp-ota-image-cache-'));
    blobs = new CountingBlobStore(join(dir, 'blobs'), async () => false);
    await blobs.init();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function store(size: number): Promise<{ sha256: string; size: number; bytes: Buffer }> {
    const bytes = randomBytes(size);
    const staged = await blobs.stage(Readable.from([bytes]), size);
    await staged.commit();
    return { sha256: createHash('sha256').update(bytes).digest('hex'), size, bytes };
  }

  it('issue 11: concurrent misses read each image once and count it once', async () => {
    const cache = new ImageCache(blobs, 1024 * KiB);
    const a = await store(100 * KiB);
    const b = await store(200 * KiB);
    const requests = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b));
    const answers = await Promise.all(requests.map((image) => cache.read(image)));
    answers.forEach((answer, i) => expect(answer?.equals(requests[i]!.bytes)).toBe(true));
    expect(blobs.reads).toBe(2);
    expect(cache.heldBytes).toBe(300 * KiB);

    // Still caching after the burst: both are answered from memory.
    await cache.read(a);
    await cache.read(b);
    expect(blobs.reads).toBe(2);
  });

  it('issue 11: after concurrent misses that overflow it, the count is the sum of what it holds', async () => {
    const cache = new ImageCache(blobs, 250 * KiB);
    const sizes = [100 * KiB, 110 * KiB, 120 * KiB];
    const images = await Promise.all(sizes.map((size) => store(size)));
    await Promise.all(Array.from({ length: 30 }, (_, i) => cache.read(images[i % 3]!)));
    expect(cache.heldBytes).toBeLessThanOrEqual(250 * KiB);

    // Every pair of sizes has its own sum: the count names the two images held, and exactly those are answered
    // without a read.
    const pair = [
      [0, 1],
      [0, 2],
      [1, 2],
    ].find(([i, j]) => sizes[i!]! + sizes[j!]! === cache.heldBytes);
    expect(pair, `${cache.heldBytes} bytes is no pair of the images`).toBeDefined();
    const held = pair!.map((i) => images[i]!);
    const readsBefore = blobs.reads;
    for (const image of held) await cache.read(image);
    expect(blobs.reads).toBe(readsBefore);
  });

  it('issue 11: an image larger than the cache is never read whole; it is streamed in ranges', async () => {
    const cache = new ImageCache(blobs, 64 * KiB);
    const large = await store(300 * KiB);
    const answers = Array.from({ length: 10 }, () => cache.read(large));
    expect(answers.every((answer) => answer === undefined)).toBe(true);
    const part = Buffer.concat(await (await cache.stream(large, 1000, 200 * KiB)).toArray());
    expect(part.equals(large.bytes.subarray(1000, 200 * KiB + 1))).toBe(true);
    expect(blobs.reads).toBe(0);
    expect(cache.heldBytes).toBe(0);
  });

  it('issue 11: an image that fits but would overflow the reads in flight is streamed, not held', async () => {
    const cache = new ImageCache(blobs, 150 * KiB);
    const [a, b] = [await store(100 * KiB), await store(100 * KiB)];
    const first = cache.read(a);
    expect(cache.read(b)).toBeUndefined(); // a's read holds 100 KiB of the 150 KiB budget
    expect((await first)?.equals(a.bytes)).toBe(true);
    expect((await cache.read(b))?.equals(b.bytes)).toBe(true); // a is evicted to make room
    expect(cache.heldBytes).toBe(100 * KiB);
    expect(blobs.reads).toBe(2);
  });
});

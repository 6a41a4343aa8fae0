import type { Readable } from 'node:stream';
import type { BlobStore } from '../../blobs/blob-store.js';

/** What the cache needs to know of an image: its blob key (the SHA-256) and its size. */
export interface CachedImage {
  sha256: string;
  size: number;
}

/**
 * Bytes of released images held in memory, by SHA-256, up to a byte budget, least recently used first out: devices
 * are served from here with one write per response. Blobs are immutable, so a cached copy never goes stale.
 *
 * Memory stays within the budget whatever the concurrency: a miss reads the image once for every request waiting
 * for it, and the bytes being read count against the budget from the moment the read starts. An image that does not
 * fit (larger than the budget, or the budget is taken by reads in flight) is not read whole at all: it is streamed
 * from storage a chunk at a time (`stream`). Responses still sending an image that has since been evicted keep that
 * one copy alive until they finish; they share it, so that is one copy per image, not per request.
 */
export class ImageCache {
  private readonly held = new Map<string, Buffer>();
  private readonly reading = new Map<string, Promise<Buffer>>();
  private heldTotal = 0;
  private readingTotal = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly capacityBytes: number,
  ) {}

  /** Bytes held: the sum of the sizes of the images in the cache. */
  get heldBytes(): number {
    return this.heldTotal;
  }

  /**
   * The whole image, from memory or read once for all requests that wait for it; `undefined` when it does not fit
   * in the cache, and must be streamed instead.
   */
  read(image: CachedImage): Promise<Buffer> | undefined {
    const cached = this.held.get(image.sha256);
    if (cached) {
      this.held.delete(image.sha256);
      this.held.set(image.sha256, cached); // most recently used goes last
      return Promise.resolve(cached);
    }
    const pending = this.reading.get(image.sha256);
    if (pending) return pending;
    if (!this.makeRoom(image.size)) return undefined;

    this.readingTotal += image.size;
    const read = this.blobs
      .read(image.sha256)
      .then((data) => {
        this.held.set(image.sha256, data);
        this.heldTotal += data.length;
        return data;
      })
      .finally(() => {
        this.reading.delete(image.sha256);
        this.readingTotal -= image.size;
      });
    this.reading.set(image.sha256, read);
    return read;
  }

  /** Bytes `start` to `end` (inclusive) of the image, read from storage a chunk at a time as they are sent. */
  stream(image: CachedImage, start: number, end: number): Promise<Readable> {
    return this.blobs.openRange(image.sha256, start, end);
  }

  /** Evicts least recently used images until `size` more bytes fit beside those held and those being read. */
  private makeRoom(size: number): boolean {
    const fits = () => this.heldTotal + this.readingTotal + size <= this.capacityBytes;
    if (size > this.capacityBytes) return false;
    for (const [key, value] of this.held) {
      if (fits()) break;
      this.held.delete(key);
      this.heldTotal -= value.length;
    }
    return fits();
  }
}

import type { BlobStore } from '../../blobs/blob-store.js';

/** What the cache needs to know of an image: its blob key (the SHA-256). */
export interface CachedImage {
  sha256: string;
}

/**
 * Bytes of released images held in memory, by SHA-256, up to a byte budget, least recently used first out: devices
 * are served from here with one write per response. Blobs are immutable, so a cached copy never goes stale.
 */
export class ImageCache {
  private readonly bytes = new Map<string, Buffer>();
  private cachedBytes = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly capacityBytes: number,
  ) {}

  /** Bytes held, as the cache counts them; the sum of the images it holds. */
  get heldBytes(): number {
    return this.cachedBytes;
  }

  /** The image's bytes, from memory when cached. */
  async read(image: CachedImage): Promise<Buffer> {
    const cached = this.bytes.get(image.sha256);
    if (cached) {
      this.bytes.delete(image.sha256);
      this.bytes.set(image.sha256, cached); // most recently used goes last
      return cached;
    }
    const data = await this.blobs.read(image.sha256);
    if (data.length <= this.capacityBytes) {
      this.bytes.set(image.sha256, data);
      this.cachedBytes += data.length;
      for (const [key, value] of this.bytes) {
        if (this.cachedBytes <= this.capacityBytes) break;
        this.bytes.delete(key);
        this.cachedBytes -= value.length;
      }
    }
    return data;
  }
}

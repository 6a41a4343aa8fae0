import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { analyzeImage } from '../../firmware-image/index.js';
import type { ReleasedImage } from './catalogue-snapshot.js';

const gzipAsync = promisify(gzip);

/** What a copy is made and checked from. */
export type CopiedImage = Pick<ReleasedImage, 'sha256' | 'size' | 'md5' | 'flashSizeBytes'>;

/** A gzip copy of a released ESP8266 image: what the device is sent instead of the image (protocol.md §6.4). */
export interface GzipCopy {
  bytes: Buffer;
  size: number;
  /** Of the compressed bytes: the `x-MD5` and `x-SHA256` the client checks what it downloaded against. */
  md5: string;
  sha256: string;
}

/** Bytes of gzip copies held at most; ESP8266 images are at most 1 MiB, so this is dozens of releases. */
export const GZIP_COPIES_BUDGET = 32 * 1024 * 1024;

/**
 * Gzip copies of released ESP8266 images, made once per image (by its SHA-256: blobs never change, so a copy never
 * goes stale) with node:zlib at level 9 and kept in memory up to a byte budget, least recently used first out.
 * Concurrent requests for an image wait for the one compression in flight. Each copy is checked before it is used:
 * it must inflate, as the ESP8266 bootloader does, to an ESP8266 app whose bytes are exactly the released image's
 * (so the header, flash settings and size the platform accepted at upload are what the device installs).
 */
export class GzipCopies {
  private readonly held = new Map<string, GzipCopy>();
  private readonly making = new Map<string, Promise<GzipCopy>>();
  private heldTotal = 0;
  /** How many copies were made: each image's once, unless the budget pushed it out. */
  made = 0;

  constructor(
    private readonly readImage: (sha256: string) => Promise<Buffer>,
    private readonly budgetBytes = GZIP_COPIES_BUDGET,
  ) {}

  copyOf(image: CopiedImage): Promise<GzipCopy> {
    const held = this.held.get(image.sha256);
    if (held) {
      this.held.delete(image.sha256);
      this.held.set(image.sha256, held); // most recently used goes last
      return Promise.resolve(held);
    }
    const pending = this.making.get(image.sha256);
    if (pending) return pending;
    const making = this.make(image).finally(() => this.making.delete(image.sha256));
    this.making.set(image.sha256, making);
    return making;
  }

  private async make(image: CopiedImage): Promise<GzipCopy> {
    const original = await this.readImage(image.sha256);
    const bytes = await gzipAsync(original, { level: 9 });
    checkCopy(bytes, original, image);
    const copy: GzipCopy = {
      bytes,
      size: bytes.length,
      md5: createHash('md5').update(bytes).digest('hex'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    this.made++;
    this.keep(image.sha256, copy);
    return copy;
  }

  private keep(key: string, copy: GzipCopy): void {
    if (copy.size > this.budgetBytes) return;
    for (const [oldKey, old] of this.held) {
      if (this.heldTotal + copy.size <= this.budgetBytes) break;
      this.held.delete(oldKey);
      this.heldTotal -= old.size;
    }
    this.held.set(key, copy);
    this.heldTotal += copy.size;
  }
}

/** Thrown when a copy would not install as the released image; the device is then sent the image itself. */
export class GzipCopyError extends Error {}

/**
 * The inflated copy, read back by the same analyser that accepted the upload: an ESP8266 app of the released size
 * and flash settings whose inflated bytes are the released image (MD5). The client skips its flash-size check for
 * gzip (−107); the decision made it on these same header bytes.
 */
function checkCopy(compressed: Buffer, original: Buffer, image: CopiedImage): void {
  if (original.length !== image.size || createHash('md5').update(original).digest('hex') !== image.md5)
    throw new GzipCopyError(`the stored image ${image.sha256} does not match its catalogue entry`);
  const analysis = analyzeImage(compressed);
  if (analysis.kind !== 'app' || analysis.family !== 'esp8266' || analysis.compression !== 'gzip')
    throw new GzipCopyError(`the gzip copy of ${image.sha256} does not read as a gzip ESP8266 app`);
  if (analysis.inflatedSize !== image.size)
    throw new GzipCopyError(
      `the gzip copy of ${image.sha256} inflates to ${analysis.inflatedSize} bytes, not ${image.size}`,
    );
  if (analysis.flash.sizeBytes !== image.flashSizeBytes)
    throw new GzipCopyError(`the gzip copy of ${image.sha256} inflates to another flash size than the release`);
  if (createHash('md5').update(gunzipSync(compressed)).digest('hex') !== image.md5)
    throw new GzipCopyError(`the gzip copy of ${image.sha256} does not inflate to the released image`);
}

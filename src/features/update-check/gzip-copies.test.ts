import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeImage } from '../../firmware-image/index.js';
import { GzipCopies, GzipCopyError, type CopiedImage } from './gzip-copies.js';

const FIRMWARE_DIR = process.env.ESP_OTA_FIRMWARE_DIR ?? join(import.meta.dirname, '../../../../shared/firmware');
/** The real Arduino ESP8266 images of the corpus (HASPone with CRC words, a Tasmota fork without). */
const HASPONE = 'HASwitchPlate__HASPone__HASwitchPlate.ino.d1_mini.bin';
const TASMOTA = '1638NimtE__Tasmota-thermostate__firmware.bin';
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

function released(bytes: Buffer): CopiedImage {
  const analysis = analyzeImage(bytes);
  if (analysis.kind !== 'app' || analysis.family !== 'esp8266') throw new Error('not an ESP8266 app');
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    md5: md5(bytes),
    flashSizeBytes: analysis.flash.sizeBytes,
  };
}

describe('gzip copies of released ESP8266 images (protocol.md §6.4)', () => {
  const images = [HASPONE, TASMOTA].map((name) => readFileSync(join(FIRMWARE_DIR, name)));

  it('makes each copy once, for every request waiting at once and every one after', async () => {
    let reads = 0;
    const byKey = new Map(images.map((bytes) => [released(bytes).sha256, bytes]));
    const copies = new GzipCopies(async (sha256) => {
      reads++;
      return byKey.get(sha256)!;
    });
    for (const bytes of images) {
      const image = released(bytes);
      const together = await Promise.all([copies.copyOf(image), copies.copyOf(image), copies.copyOf(image)]);
      const later = await copies.copyOf(image);
      expect(new Set([...together, later]).size).toBe(1);
      const copy = later;
      expect(Buffer.compare(gunzipSync(copy.bytes), bytes)).toBe(0);
      expect(copy.md5).toBe(md5(copy.bytes));
      expect(copy.size).toBe(copy.bytes.length);
      expect(copy.size).toBeLessThan(bytes.length);
    }
    expect([copies.made, reads]).toEqual([2, 2]);
  });

  it('refuses a copy whose inflated image is not the release (stored bytes that do not match the catalogue)', async () => {
    const [real] = images;
    const image = released(real!);
    const damaged = Buffer.from(real!);
    damaged[0x2000] = damaged[0x2000]! ^ 0xff;
    const copies = new GzipCopies(async () => damaged);
    await expect(copies.copyOf(image)).rejects.toBeInstanceOf(GzipCopyError);
    // Another flash size than the release's header says: the device would boot with the wrong flash map.
    const otherFlash = new GzipCopies(async () => real!);
    await expect(otherFlash.copyOf({ ...image, flashSizeBytes: 1024 })).rejects.toBeInstanceOf(GzipCopyError);
  });

  it('keeps copies within its byte budget, least recently used out', async () => {
    const byKey = new Map(images.map((bytes) => [released(bytes).sha256, bytes]));
    const copies = new GzipCopies(async (sha256) => byKey.get(sha256)!, 600_000);
    const [a, b] = images.map(released);
    await copies.copyOf(a!);
    await copies.copyOf(b!); // does not fit beside a: a goes
    await copies.copyOf(b!);
    expect(copies.made).toBe(2);
    await copies.copyOf(a!);
    expect(copies.made).toBe(3);
  });
});

import { createHash } from 'node:crypto';
import type { AppImage } from './analysis.js';
import { inflateFirstMember } from './gzip-member.js';

/**
 * The ESP8266 Updater rewrites byte 2 (flash mode) to the chip's real mode while flashing, so the MD5 a device
 * reports in `x-ESP8266-sketch-md5` is over the file with that byte set to 0–3 (protocol.md §4.6 step 5). We store all
 * four so a device running this image is recognised whatever its flash mode.
 */
export function sketchMd5Variants(bytes: Uint8Array, app: AppImage): string[] {
  if (app.family !== 'esp8266') return [];
  // eboot inflates a gzip upload before it runs, so the device reports digests of the inflated image. Only the first
  // member, as eboot does: a signed .bin.gz has the signature after it, which gunzip would take for a broken member.
  const content =
    app.compression === 'gzip'
      ? inflateFirstMember(bytes, app.inflatedSize ?? bytes.length * 1032).inflated
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sketch = content.subarray(0, Math.min(app.imageLength, content.length));
  const head = Buffer.from(sketch.subarray(0, 16));
  const rest = sketch.subarray(16);
  return [0, 1, 2, 3].map((mode) => {
    head[2] = mode;
    return createHash('md5').update(head).update(rest).digest('hex');
  });
}

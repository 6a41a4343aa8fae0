/**
 * ESP8266 gzip savings (issue 15, docs/clients.md "ESP8266 gzip"): every Arduino ESP8266 app image in
 * ../shared/firmware, compressed as the server does it (GzipCopies: node:zlib level 9, checked by inflating it back),
 * with the size each device then downloads. Prints each image's ratio and the total; the ratio does not depend on
 * the machine, the milliseconds do (a busy machine makes them noisy).
 * Run: npm run bench:gzip
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { analyzeImage } from '../src/firmware-image/index.js';
import { GzipCopies } from '../src/features/update-check/gzip-copies.js';
import { CORPUS_AVAILABLE, FIRMWARE_DIR, readFirmware } from '../test/helpers/firmware-corpus.js';

if (!CORPUS_AVAILABLE) {
  console.error(`no firmware corpus at ${FIRMWARE_DIR}`);
  process.exit(1);
}

const apps = readdirSync(FIRMWARE_DIR)
  .filter((name) => name.endsWith('.bin'))
  .sort()
  .flatMap((name) => {
    const bytes = readFirmware(name);
    const analysis = analyzeImage(bytes);
    return analysis.kind === 'app' && analysis.family === 'esp8266' && !analysis.compression
      ? [{ name, bytes, flashSizeBytes: analysis.flash.sizeBytes }]
      : [];
  });

const copies = new GzipCopies(async (sha256) => apps.find((a) => sha(a.bytes) === sha256)!.bytes);
let original = 0;
let compressed = 0;
console.log('image\toriginal bytes\tgzip -9 bytes\tratio\tsaved\tms');
for (const app of apps) {
  const started = performance.now();
  const copy = await copies.copyOf({
    sha256: sha(app.bytes),
    size: app.bytes.length,
    md5: createHash('md5').update(app.bytes).digest('hex'),
    flashSizeBytes: app.flashSizeBytes,
  });
  const ms = performance.now() - started;
  original += app.bytes.length;
  compressed += copy.size;
  console.log(
    `${app.name}\t${app.bytes.length}\t${copy.size}\t${percent(copy.size / app.bytes.length)}\t` +
      `${percent(1 - copy.size / app.bytes.length)}\t${ms.toFixed(0)}`,
  );
}
console.log(
  `total (${apps.length} images)\t${original}\t${compressed}\t${percent(compressed / original)}\t` +
    `${percent(1 - compressed / original)}\t`,
);

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

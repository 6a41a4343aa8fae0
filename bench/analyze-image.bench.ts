/**
 * Image analysis throughput: the largest real image in ../shared/firmware, analysed and identified against 1,000
 * known platform names, as an upload does. Prints MB/s; the target is ≥ 200 MB/s.
 * Run: npm run bench:analyze
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeImage } from '../src/firmware-image/index.js';
import { identify } from '../src/firmware-image/identify.js';
import { PlatformNameIndex } from '../src/firmware-image/platform-names.js';
import { CORPUS_AVAILABLE, FIRMWARE_DIR, readFirmware } from '../test/helpers/firmware-corpus.js';

if (!CORPUS_AVAILABLE) {
  console.error(`no firmware corpus at ${FIRMWARE_DIR}`);
  process.exit(1);
}
const largest = readdirSync(FIRMWARE_DIR)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => ({ f, size: statSync(join(FIRMWARE_DIR, f)).size }))
  .sort((a, b) => b.size - a.size)
  .find(({ f }) => analyzeImage(readFirmware(f)).kind === 'app')!;
const bytes = readFirmware(largest.f);
// Realistic names (word-like, mixed case) plus the ones the corpus really contains.
const names = Array.from({ length: 997 }, (_, i) => `Device${i.toString(36)}Line`).concat(['OpenDTU', 'WLED', 'light']);
const index = new PlatformNameIndex(names);

function once(): void {
  const analysis = analyzeImage(bytes);
  identify(bytes, analysis, { platforms: index });
}

for (let i = 0; i < 20; i++) once(); // warm up the JIT
const rounds = 200;
const start = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) once();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const mbPerSecond = (bytes.length * rounds) / 1e6 / seconds;
console.log(`image: ${largest.f} (${bytes.length} bytes), ${names.length} platform names`);
console.log(
  `analyse + identify: ${((seconds / rounds) * 1000).toFixed(2)} ms per image, ${mbPerSecond.toFixed(0)} MB/s (target ≥ 200 MB/s)`,
);

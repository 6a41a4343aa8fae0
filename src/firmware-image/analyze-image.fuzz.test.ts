import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeImage } from './index.js';
import { identify } from './identify.js';
import { buildEsp32App, buildEsp8266App } from '../../test/synthetic/image-builder.js';
import { CORPUS_AVAILABLE, readFirmware, readManifest } from '../../test/helpers/firmware-corpus.js';

const KINDS = new Set(['app', 'filesystem', 'rejected']);

/** Whatever the bytes, the analyser answers with a result (never an exception) and identify() copes with it. */
function assertTotal(bytes: Uint8Array): void {
  const analysis = analyzeImage(bytes);
  expect(KINDS.has(analysis.kind)).toBe(true);
  if (analysis.kind === 'rejected') expect(analysis.reason.length).toBeGreaterThan(0);
  if (analysis.kind === 'app')
    expect(analysis.imageLength).toBeLessThanOrEqual(
      (analysis.family === 'esp8266' && analysis.inflatedSize) || analysis.size,
    );
  identify(bytes, analysis, { platforms: ['AirPatrol', 'WLED'] });
}

const seeds: Uint8Array[] = [buildEsp32App(), buildEsp8266App(), buildEsp8266App({ crcWords: false })];
if (CORPUS_AVAILABLE) {
  for (const row of readManifest()) seeds.push(readFirmware(row.file));
}

/** A seed with a few bytes overwritten, a slice cut out, or both. */
const mutatedSeed = fc
  .record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    cut: fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }),
  })
  .map(({ seed, writes, cut }) => {
    let bytes = Buffer.from(seeds[seed]!);
    for (const [position, value] of writes) if (bytes.length > 0) bytes[position % bytes.length] = value;
    if (cut && bytes.length > 0) {
      const from = cut[0] % bytes.length;
      bytes = Buffer.concat([bytes.subarray(0, from), bytes.subarray(Math.min(bytes.length, from + (cut[1] % 4096)))]);
    }
    return bytes;
  });

describe('analyser fuzzing', () => {
  it('returns a result for random bytes, including ones that start like an image', () => {
    const header = fc.constantFrom(0xe9, 0xea, 0x1f, 0xaa, 0xff, 0x01, 0x00);
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 4096 }), (first, rest) => {
        assertTotal(Uint8Array.from([first, ...rest]));
      }),
      { numRuns: 1500 },
    );
  });

  it('returns a result for mutated and truncated real and synthetic images', () => {
    fc.assert(
      fc.property(mutatedSeed, (bytes) => assertTotal(bytes)),
      { numRuns: 600 },
    );
  });
});

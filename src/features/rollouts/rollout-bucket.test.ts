import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketAdmitted, rolloutBucket } from './rollout-bucket.js';

const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b).toString('hex'));

describe('rollout membership', () => {
  it('is stable: the same rollout and MAC always give the same bucket', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), macArb, (id, mac) => {
        const bucket = rolloutBucket(id, mac);
        expect(bucket).toBe(rolloutBucket(id, mac));
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(BUCKETS);
      }),
    );
  });

  it('is monotone: raising the percentage never removes a device', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.uniqueArray(macArb, { minLength: 1, maxLength: 500 }),
        fc.float({ min: 0, max: 100, noNaN: true }),
        fc.float({ min: 0, max: 100, noNaN: true }),
        (id, macs, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          for (const mac of macs) {
            const bucket = rolloutBucket(id, mac);
            if (bucketAdmitted(bucket, low)) expect(bucketAdmitted(bucket, high)).toBe(true);
          }
        },
      ),
    );
  });

  it('admits a share within ±3 points of the target for 10,000 random MACs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.uniqueArray(macArb, { minLength: 10_000, maxLength: 10_000 }),
        (id, macs) => {
          const buckets = macs.map((mac) => rolloutBucket(id, mac));
          for (const percent of [1, 5, 10, 25, 50, 75, 100]) {
            const share = (100 * buckets.filter((b) => bucketAdmitted(b, percent)).length) / macs.length;
            expect(Math.abs(share - percent)).toBeLessThanOrEqual(3);
          }
        },
      ),
      { numRuns: 8 },
    );
  });

  it('spreads consecutive MACs (a batch of boards from one factory) like random ones', () => {
    const macs = Array.from({ length: 10_000 }, (_, i) => (0x5ccf7f000000 + i).toString(16).padStart(12, '0'));
    for (const percent of [1, 10, 50]) {
      const share = (100 * macs.filter((mac) => bucketAdmitted(rolloutBucket(7, mac), percent)).length) / macs.length;
      expect(Math.abs(share - percent)).toBeLessThanOrEqual(3);
    }
  });

  it('draws a different first percent for each rollout', () => {
    const macs = Array.from({ length: 10_000 }, (_, i) => (0x240ac4000000 + i * 7).toString(16).padStart(12, '0'));
    const first = (id: number) => new Set(macs.filter((mac) => bucketAdmitted(rolloutBucket(id, mac), 1)));
    const a = first(1);
    const b = first(2);
    const overlap = [...a].filter((mac) => b.has(mac)).length;
    expect(overlap).toBeLessThan(a.size / 4);
  });

  it('admits nobody at 0 % and everybody at 100 %', () => {
    expect(bucketAdmitted(0, 0)).toBe(false);
    expect(bucketAdmitted(BUCKETS - 1, 100)).toBe(true);
  });
});

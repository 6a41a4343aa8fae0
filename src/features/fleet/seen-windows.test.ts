import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeenWindows } from './seen-windows.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-12-01T00:00:00Z');

describe('devices seen within a window', () => {
  it('counts each device once, in the minute it was last seen', () => {
    const windows = new SeenWindows();
    windows.seen(undefined, T0);
    windows.seen(undefined, T0 + 30 * MIN);
    windows.seen(T0, T0 + 90 * MIN); // the first device again
    expect(windows.countSince(T0 + 89 * MIN, HOUR)).toBe(1); // the second device; the first moved to minute 90
    expect(windows.countSince(T0 + 90 * MIN, 2 * HOUR)).toBe(2);
    expect(windows.countSince(T0 + 149 * MIN, HOUR)).toBe(1);
    expect(windows.countSince(T0 + 150 * MIN, 24 * HOUR)).toBe(2);
    expect(windows.countSince(T0 + 30 * HOUR, 24 * HOUR)).toBe(0);
  });

  it('forgets removed devices and devices older than a day', () => {
    const windows = new SeenWindows();
    windows.seen(undefined, T0);
    windows.seen(undefined, T0 + MIN);
    windows.removed(T0 + MIN);
    expect(windows.countSince(T0 + MIN, HOUR)).toBe(1);
    windows.seen(undefined, T0 - 25 * HOUR); // loaded from the database, seen long ago
    windows.removed(T0 - 25 * HOUR);
    expect(windows.countSince(T0 + MIN, 24 * HOUR)).toBe(1);
  });

  it('agrees with counting every device by hand', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 49 }), fc.integer({ min: 0, max: 3 * 24 * 60 })), {
          maxLength: 300,
        }),
        (sightings) => {
          // Sightings in time order, as a server sees them.
          sightings.sort((a, b) => a[1] - b[1]);
          const windows = new SeenWindows();
          const last = new Map<number, number>();
          for (const [device, minute] of sightings) {
            const at = T0 + minute * MIN;
            windows.seen(last.get(device), at);
            last.set(device, at);
          }
          const now = T0 + (sightings.at(-1)?.[1] ?? 0) * MIN;
          for (const window of [HOUR, 24 * HOUR]) {
            const expected = [...last.values()].filter((at) => at > now - window && at <= now).length;
            expect(windows.countSince(now, window)).toBe(expected);
          }
        },
      ),
    );
  });
});

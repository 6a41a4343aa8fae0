import { describe, expect, it } from 'vitest';
import { compareVersionTexts, decodeCursor } from './device-pages.js';

describe('the device list by version', () => {
  it('orders versions as the server compares them, not as text', () => {
    const versions = ['1.10.0', '1.9.2', '3d4085c-dirty', 'v1.2.0', '1.10.0-rc.1', '1.2.0-3-gabc123', '1.2.0'];
    expect([...versions].sort(compareVersionTexts)).toEqual([
      '1.2.0',
      'v1.2.0',
      '1.2.0-3-gabc123',
      '1.9.2',
      '1.10.0-rc.1',
      '1.10.0',
      '3d4085c-dirty',
    ]);
  });
});

describe('page cursors', () => {
  it('are refused when they are not one of ours, or belong to another order', () => {
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const good = { s: 'seen', d: 1, t: 5, m: '5ccf7f000001', v: null };
    expect(decodeCursor(cursor(good), 'seen', true)).toMatchObject({ lastSeenAt: 5, mac: '5ccf7f000001' });
    for (const bad of [
      cursor({ ...good, d: 0 }),
      cursor({ ...good, s: 'mac' }),
      cursor({ ...good, m: "x' or 1=1" }),
      cursor({ ...good, t: -1 }),
      cursor({ ...good, t: 1e300 }),
      cursor({ ...good, v: 7 }),
      cursor(null),
      'not base64!',
      '',
    ]) {
      expect(() => decodeCursor(bad, 'seen', true), bad).toThrow(/invalid page cursor/);
    }
  });
});

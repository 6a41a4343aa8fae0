import { describe, expect, it } from 'vitest';
import { formatMac, normalizeMac } from './mac.js';

describe('MAC addresses', () => {
  it.each(['5C:CF:7F:12:34:56', '5c-cf-7f-12-34-56', '5ccf7f123456', '5CCF.7F12.3456', ' 5c:cf:7f:12:34:56 '])(
    'normalises %s',
    (input) => expect(normalizeMac(input)).toBe('5ccf7f123456'),
  );

  it.each(['', '5C:CF:7F:12:34', '5C:CF-7F:12:34:56', 'zz:cf:7f:12:34:56', '5ccf7f1234567', '../etc/passwd'])(
    'refuses %j',
    (input) => expect(normalizeMac(input)).toBeUndefined(),
  );

  it('formats as devices send it', () => expect(formatMac('5ccf7f123456')).toBe('5C:CF:7F:12:34:56'));
});

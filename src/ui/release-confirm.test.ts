import { describe, expect, it } from 'vitest';
import { moveSentence } from './release-confirm.js';

describe('"N devices will move from X to Y"', () => {
  it.each([
    [[['1.0.0', 3]], '1.1.0', '3 devices will move from 1.0.0 to 1.1.0.'],
    [[['1.0.0', 1]], '1.1.0', '1 device will move from 1.0.0 to 1.1.0.'],
    [
      [
        ['1.0.0', 1],
        [null, 2],
        ['1.1.0', 5],
      ],
      'v1.1.0',
      '3 devices will move from an unknown version (2), 1.0.0 (1) to v1.1.0.',
    ],
    [[['1.1.0', 4]], '1.1.0', 'No known device runs another version: nothing moves to 1.1.0 now.'],
    [[], '1.1.0', 'No known device runs another version: nothing moves to 1.1.0 now.'],
  ] as [[string | null, number][], string, string][])('%j → %s', (versions, target, sentence) => {
    expect(moveSentence(versions, target)).toBe(sentence);
  });
});

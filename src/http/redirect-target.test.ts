import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameSiteRedirect } from './redirect-target.js';

const ORIGIN = 'https://ota.example';

/** What a browser does with a Location header: resolve it against the page's URL (WHATWG URL, as in browsers). */
function staysOnSite(location: string): boolean {
  return new URL(location, `${ORIGIN}/login`).origin === ORIGIN;
}

/** Strings built from the pieces open-redirect tricks are made of, and plain arbitrary text. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(
      fc.constantFrom(
        '/',
        '//',
        '\\',
        '/\\',
        '%2f',
        '%2F',
        '%5c',
        '%09',
        '%0a',
        '%0d',
        '%00',
        '%20',
        '%',
        '%zz',
        '\t',
        '\n',
        '\r',
        ' ',
        '\u0000',
        '\u00a0',
        '\u2028',
        '\ufeff',
        'evil.example',
        'http:',
        'https://evil.example',
        'javascript:alert(1)',
        '@',
        ':',
        '.',
        '..',
        '?',
        '#',
        'platforms',
        'Küche',
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('')),
);

describe('redirect targets (issue 11)', () => {
  it('issue 11: always gives a path on this site that is a valid header value, for any input', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const target = sameSiteRedirect(input);
        expect(target).toMatch(/^\/(?![/\\])[\x21-\x7e]*$/);
        expect(staysOnSite(target)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('issue 11: keeps paths on this site as they are and sends everything else home', () => {
    for (const kept of [
      '/',
      '/platforms/Lamp',
      '/platforms/K%C3%BCche?notice=Settings%20saved.',
      '/events?before=10#x',
      '/setup?next=%2F%2Fwhatever',
    ])
      expect(sameSiteRedirect(kept)).toBe(kept);
    for (const refused of [
      undefined,
      '',
      'platforms',
      '//evil.example',
      '/\\evil.example',
      '/%09/evil.example',
      '/\t/evil.example',
      '/%2F/evil.example',
      '/%5Cevil.example',
      '/\r\nSet-Cookie: a=1',
      '/%0d%0aSet-Cookie:%20a=1',
      '/%zz',
      'https://evil.example/',
      '/a b',
      '/Küche',
    ])
      expect(sameSiteRedirect(refused), JSON.stringify(refused)).toBe('/');
  });
});

import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain-error.js';
import { formatUpdateWindow, insideWindow, parseUpdateWindow } from './update-window.js';

const at = (iso: string) => Date.parse(iso);

describe('update window', () => {
  it('holds the hours of a day in its time zone', () => {
    const window = parseUpdateWindow({ from: '02:00', to: '05:00', timeZone: 'Europe/Berlin' });
    // Berlin is UTC+1 in winter and UTC+2 in summer.
    expect(insideWindow(window, at('2026-01-15T01:00:00Z'))).toBe(true); // 02:00 local
    expect(insideWindow(window, at('2026-01-15T00:59:00Z'))).toBe(false); // 01:59 local
    expect(insideWindow(window, at('2026-01-15T04:00:00Z'))).toBe(false); // 05:00 local: the end is exclusive
    expect(insideWindow(window, at('2026-07-15T00:30:00Z'))).toBe(true); // 02:30 local in summer time
    expect(insideWindow(window, at('2026-07-15T03:30:00Z'))).toBe(false); // 05:30 local
  });

  it('spans midnight when it starts later than it ends', () => {
    const window = parseUpdateWindow({ from: '22:00', to: '06:00', timeZone: 'UTC' });
    expect(insideWindow(window, at('2026-03-01T23:30:00Z'))).toBe(true);
    expect(insideWindow(window, at('2026-03-01T05:59:00Z'))).toBe(true);
    expect(insideWindow(window, at('2026-03-01T06:00:00Z'))).toBe(false);
    expect(insideWindow(window, at('2026-03-01T12:00:00Z'))).toBe(false);
  });

  it('is always open without a window', () => {
    expect(insideWindow(undefined, at('2026-03-01T12:00:00Z'))).toBe(true);
  });

  it('refuses what is not a time or a zone, with a sentence', () => {
    for (const input of [
      { from: '24:00', to: '05:00', timeZone: 'UTC' },
      { from: '2:00', to: '05:00', timeZone: 'UTC' },
      { from: '02:00', to: '02:00', timeZone: 'UTC' },
      { from: '02:00', to: '05:00', timeZone: 'Mars/Olympus' },
      { from: '02:00', to: '05:00', timeZone: '' },
    ]) {
      expect(() => parseUpdateWindow(input)).toThrow(DomainError);
    }
  });

  it('formats back what it parsed', () => {
    const input = { from: '21:15', to: '04:05', timeZone: 'America/New_York' };
    expect(formatUpdateWindow(parseUpdateWindow(input))).toEqual(input);
  });
});

import { describe, expect, it } from 'vitest';
import { compareVersions, isOrderable, parseVersion, reportedVersion, sameVersion, versionKey } from './version.js';

describe('versions', () => {
  it.each([
    ['1.2.3', '1.2.4', -1],
    ['v1.2.3', '1.2.3', 0],
    ['1.10.0', '1.9.9', 1],
    ['1.2.3-rc.1', '1.2.3', -1],
    ['1.2.3-alpha', '1.2.3-beta', -1],
    ['1.2.3+build.7', '1.2.3', 0],
    ['2024.10.2', '2024.9.30', 1],
    ['2025.9.3', '2024.10.2', 1],
    ['v23.9.18', 'v23.9.18-21-g66af0e6', -1],
    ['v23.9.18-21-g66af0e6', 'v23.9.18-22-gabcdef0', -1],
    ['v23.9.18-21-g66af0e6', 'v23.9.19', -1],
    ['1', '2', -1],
    ['1.2', '1.2.0', 0],
    ['v0.15.0-b2', 'v0.15.0', -1],
  ] as const)('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(expected === 0 ? 0 : -expected);
  });

  it.each([
    '3d4085c-dirty',
    '769c168',
    'heads/idf-release/v4.4-0-gd4572',
    'esp-idf: v4.4.4 e8bdaf9198',
    'qa-test-v5.0',
  ])('treats %s as an opaque label: equal only to itself', (label) => {
    expect(isOrderable(label)).toBe(false);
    expect(compareVersions(label, '1.0.0')).toBeUndefined();
    expect(compareVersions(label, label)).toBe(0);
    expect(sameVersion(label, ` ${label} `)).toBe(true);
  });

  it('orders v4.4-dirty like 4.4.0 and remembers that it is dirty', () => {
    expect(parseVersion('v4.4-dirty')).toMatchObject({ semver: '4.4.0', dirty: true, commitsAfter: 0 });
    expect(compareVersions('v4.4-dirty', 'v4.5')).toBe(-1);
  });

  it('refuses empty and absurdly long versions', () => {
    expect(parseVersion('')).toBeUndefined();
    expect(parseVersion('1.'.repeat(40) + '1')).toBeUndefined();
  });
});

describe('Tasmota versions (protocol.md §6.3)', () => {
  it('orders four-number development builds between their release and the next', () => {
    expect(compareVersions('14.3.0.2', '14.3.0')).toBe(1);
    expect(compareVersions('14.3.0.2', '14.3.1')).toBe(-1);
    expect(compareVersions('14.3.0.2', '14.3.0.10')).toBe(-1);
    expect(versionKey('14.3.0.0')).toBe(versionKey('14.3.0'));
  });

  it('reads the running version Tasmota reports, without its image name', () => {
    expect(reportedVersion('14.3.0(tasmota)')).toBe('14.3.0');
    expect(reportedVersion('14.3.0.2(tasmota-DE)')).toBe('14.3.0.2');
    expect(reportedVersion('14.3.0(minimal)')).toBe('14.3.0');
    // Not a version in front of the parentheses, or not an image name inside: kept as sent.
    expect(reportedVersion('build(3)')).toBe('build(3)');
    expect(reportedVersion('1.2.3(a b)')).toBe('1.2.3(a b)');
    expect(reportedVersion('1.2.3')).toBe('1.2.3');
  });
});

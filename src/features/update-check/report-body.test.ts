import { describe, expect, it } from 'vitest';
import { request } from './decide-fixtures.js';
import { MalformedRequestError } from './esp-request.js';
import { readReport } from './report-body.js';

describe('readReport: what an outcome report may say', () => {
  it('takes the MAC from the headers or the body, and the outcome, version and reason', () => {
    expect(readReport({ outcome: 'failure', version: '2.0.0', reason: '  flash  write failed ' }, request())).toEqual({
      mac: '5ccf7f123456',
      outcome: 'failure',
      version: '2.0.0',
      reason: 'flash  write failed',
    });
    expect(
      readReport({ outcome: 'success', mac: '5C-CF-7F-12-34-56' }, request({ mac: undefined, version: undefined })),
    ).toMatchObject({
      mac: '5ccf7f123456',
      version: undefined,
      reason: undefined,
    });
    expect(readReport({ outcome: 'success', mac: '5ccf7f123456' }, request())).toMatchObject({ mac: '5ccf7f123456' });
  });

  it('reads a success without a version as the version the headers say the device runs', () => {
    expect(readReport({ outcome: 'success' }, request({ version: '2.1.0' })).version).toBe('2.1.0');
    expect(readReport({ outcome: 'failure' }, request({ version: '2.1.0' })).version).toBeUndefined();
  });

  it.each([
    ['a MAC that is not one', { outcome: 'success', mac: 'zz' }, /not a MAC address/],
    ['two different MACs', { outcome: 'success', mac: '5ccf7f000000' }, /MAC in the body/],
    ['a version that is not printable ASCII', { outcome: 'success', version: 'v1\u00e9' }, /version/],
    ['a reason on two lines', { outcome: 'failure', reason: 'a\r\nb' }, /printable text on one line/],
    ['a reason with an invisible character', { outcome: 'failure', reason: 'a\u200bb' }, /printable/],
    ['a reason over 200 characters', { outcome: 'failure', reason: 'é'.repeat(201) }, /200 characters/],
  ] as const)('refuses %s', (_name, body, message) => {
    expect(() => readReport(body, request())).toThrow(MalformedRequestError);
    expect(() => readReport(body, request())).toThrow(message);
  });

  it('treats an empty reason as none', () => {
    expect(readReport({ outcome: 'failure', reason: '   ' }, request()).reason).toBeUndefined();
  });
});

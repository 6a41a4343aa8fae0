import { describe, expect, it } from 'vitest';
import { admission, decide } from './decide.js';
import { platform, request } from './decide-fixtures.js';
import { hashDeviceSecret } from './device-credentials.js';

const secretHash = hashDeviceSecret('platform-secret-0123456789');
const basicPlatform = platform({
  accessMode: 'open',
  deviceAuth: { mode: 'basic', user: 'fleet', secretHash, deviceSecrets: new Map() },
});

describe('admission: who may be answered at all, the same for checks and outcome reports', () => {
  it.each([
    ['unknown platform → 404', request(), undefined, 404, 'unknown-platform'],
    ['no credentials where the platform asks → 401', request(), basicPlatform, 401, 'auth-required'],
    [
      'wrong credentials → 403',
      request({
        credentials: { basic: { user: 'fleet', password: 'wrong' }, deviceBasic: undefined, tokens: [] },
      }),
      basicPlatform,
      403,
      'bad-credentials',
    ],
    ['no MAC on an allowlist platform → 403', request({ mac: undefined }), platform(), 403, 'mac-required'],
    ['unlisted MAC → 403', request({ mac: '000000000001' }), platform(), 403, 'not-allowed'],
  ] as const)('%s', (_name, req, view, status, reason) => {
    const refusal = admission(req, view);
    expect(refusal).toMatchObject({ action: 'refuse', status, reason });
    // decide() refuses exactly so.
    expect(decide(req, view)).toEqual(refusal);
  });

  it('admits a listed device, a device on an open platform, and good credentials', () => {
    expect(admission(request(), platform())).toBeUndefined();
    expect(admission(request({ mac: '000000000001' }), platform({ accessMode: 'open' }))).toBeUndefined();
    const good = request({
      credentials: {
        basic: { user: 'fleet', password: 'platform-secret-0123456789' },
        deviceBasic: undefined,
        tokens: [],
      },
    });
    expect(admission(good, basicPlatform)).toBeUndefined();
  });

  it('marks refusals before the platform knew who was asking as unverified', () => {
    expect(admission(request(), undefined)).toMatchObject({ unverified: true });
    expect(admission(request(), basicPlatform)).toMatchObject({ unverified: true });
    expect(admission(request({ mac: '000000000001' }), platform())).not.toHaveProperty('unverified');
  });
});

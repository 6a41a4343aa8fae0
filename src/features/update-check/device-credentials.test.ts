import { describe, expect, it } from 'vitest';
import { readDeviceCredentials } from './device-credentials.js';

const basic = (userPass: string) => ({ authorization: `Basic ${Buffer.from(userPass).toString('base64')}` });

describe('device credentials (issue 11)', () => {
  it.each([
    ['a user name', 'fleet:s3cret', 'fleet', 's3cret'],
    ['a password with colons', 'fleet:s3:cr:et', 'fleet', 's3:cr:et'],
  ])('reads %s as RFC 7617 does, for the platform and for a device', (_what, userPass, user, password) => {
    const credentials = readDeviceCredentials(basic(userPass), undefined);
    expect(credentials.basic).toEqual({ user, password });
    expect(credentials.deviceBasic).toEqual({ mac: user, password });
  });

  it.each([
    ['as WiFi.macAddress() prints it', '5C:CF:7F:00:00:AA:device-secret', '5C:CF:7F:00:00:AA', 'device-secret'],
    ['in lower case, password with colons', '5c:cf:7f:00:00:aa:a:b', '5c:cf:7f:00:00:aa', 'a:b'],
    ['with an empty password', '5C:CF:7F:00:00:AA:', '5C:CF:7F:00:00:AA', ''],
    ['with dashes', '5C-CF-7F-00-00-AA:device-secret', '5C-CF-7F-00-00-AA', 'device-secret'],
    ['without separators', '5ccf7f0000aa:device-secret', '5ccf7f0000aa', 'device-secret'],
    ['too long to be one (split as usual)', '5C:CF:7F:00:00:AAB:pw', '5C', 'CF:7F:00:00:AAB:pw'],
  ])('reads a device MAC as the user %s', (_what, userPass, mac, password) => {
    expect(readDeviceCredentials(basic(userPass), undefined).deviceBasic).toEqual({ mac, password });
  });

  it('still reads the platform user at the first colon when a device MAC is sent', () => {
    expect(readDeviceCredentials(basic('5C:CF:7F:00:00:AA:pw'), undefined).basic).toEqual({
      user: '5C',
      password: 'CF:7F:00:00:AA:pw',
    });
  });
});

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What a device presented: HTTP Basic (`setAuthorization(user, password)` or `http://user:pass@host/…`), or a token
 * (`x-ota-token` header, `?token=`, `Authorization: Bearer …`, or ESP8266's `setAuthorization(token)`, which sends
 * `Basic <token>` without encoding it).
 */
export interface DeviceCredentials {
  /** HTTP Basic split at the first colon (RFC 7617): how the platform's user and secret are read. */
  basic: { user: string; password: string } | undefined;
  /**
   * HTTP Basic as a device logging in with its own secret, whose user is its MAC. `WiFi.macAddress()` prints
   * `5C:CF:7F:00:00:AA`, whose colons meet Basic's own: split at the first colon, the user would be `5C`. So a user
   * that starts with a MAC in that form and a colon is read as the MAC; other forms (`5C-CF-7F-00-00-AA`,
   * `5ccf7f0000aa`) split as usual.
   */
  deviceBasic: { mac: string; password: string } | undefined;
  tokens: string[];
}

const MAC_WITH_COLONS_THEN_COLON = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}:/i;
const MAC_WITH_COLONS_LENGTH = 17;

export function readDeviceCredentials(headers: IncomingHttpHeaders, queryToken: string | undefined): DeviceCredentials {
  const tokens: string[] = [];
  let basic: DeviceCredentials['basic'];
  let deviceBasic: DeviceCredentials['deviceBasic'];
  const authorization = typeof headers.authorization === 'string' ? headers.authorization.trim() : '';
  const header = headers['x-ota-token'];
  if (typeof header === 'string' && header.trim()) tokens.push(header.trim());
  if (queryToken) tokens.push(queryToken);
  if (/^bearer /i.test(authorization)) tokens.push(authorization.slice(7).trim());
  if (/^basic /i.test(authorization)) {
    const value = authorization.slice(6).trim();
    tokens.push(value); // setAuthorization(token) on ESP8266 sends the token itself
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      basic = { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      deviceBasic = MAC_WITH_COLONS_THEN_COLON.test(decoded)
        ? {
            mac: decoded.slice(0, MAC_WITH_COLONS_LENGTH),
            password: decoded.slice(MAC_WITH_COLONS_LENGTH + 1),
          }
        : { mac: basic.user, password: basic.password };
    }
  }
  return { basic, deviceBasic, tokens };
}

/** Device secrets are stored as SHA-256: they are long random strings, and checks must stay fast. */
export function hashDeviceSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, hash: string | null | undefined): boolean {
  if (!hash) return false;
  const a = Buffer.from(hashDeviceSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

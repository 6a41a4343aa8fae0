import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What a device presented: HTTP Basic (`setAuthorization(user, password)` or `http://user:pass@host/…`), or a token
 * (`x-ota-token` header, `?token=`, `Authorization: Bearer …`, or ESP8266's `setAuthorization(token)`, which sends
 * `Basic <token>` without encoding it).
 */
export interface DeviceCredentials {
  basic: { user: string; password: string } | undefined;
  tokens: string[];
}

export function readDeviceCredentials(headers: IncomingHttpHeaders, queryToken: string | undefined): DeviceCredentials {
  const tokens: string[] = [];
  let basic: DeviceCredentials['basic'];
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
    if (colon >= 0) basic = { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { basic, tokens };
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

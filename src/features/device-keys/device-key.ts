import { randomBytes } from 'node:crypto';

/** 128 random bits, base64url: 22 characters that need no escaping in a URL path. */
const KEY_BYTES = 16;

/** What a minted key looks like; anything else in a key's place in a path is answered 400 before any lookup. */
export const DEVICE_KEY_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function newDeviceKey(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}

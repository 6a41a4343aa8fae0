import { u32le } from './primitives.js';
import type { ByteRange } from './types.js';

/** BearSSL on the ESP8266 verifies RSA keys of up to 4,096 bits; nobody signs with less than 512. */
const MIN_SIGNATURE_LENGTH = 64;
const MAX_SIGNATURE_LENGTH = 512;
const LENGTH_WORD = 4;

export interface Esp8266Trailer {
  /** The bytes the signature covers: everything before it, as served (for gzip: the `.gz` data). */
  payload: ByteRange;
  signature: ByteRange;
}

/**
 * esp8266/Arduino signed images end in `signature ‖ u32 LE signature length` (`Updater::end`, `tools/signing.py`).
 * Returns where the parts are when the last word names a plausible RSA signature length, else undefined. Only the
 * length word is checked: a key tells whether the bytes before it really are a signature.
 */
export function readEsp8266Trailer(bytes: Uint8Array): Esp8266Trailer | undefined {
  if (bytes.length < LENGTH_WORD + MIN_SIGNATURE_LENGTH + 1) return undefined;
  const at = bytes.length - LENGTH_WORD;
  const signatureLength = u32le(bytes, at);
  if (signatureLength < MIN_SIGNATURE_LENGTH || signatureLength > MAX_SIGNATURE_LENGTH) return undefined;
  const payloadLength = at - signatureLength;
  if (payloadLength <= 0) return undefined;
  return {
    payload: { offset: 0, length: payloadLength },
    signature: { offset: payloadLength, length: signatureLength },
  };
}

import { parsePublicKey } from './public-key.js';
import type { EmbeddedPublicKey } from './types.js';

const MARKERS = ['-----BEGIN PUBLIC KEY-----', '-----BEGIN RSA PUBLIC KEY-----'].map((m) => Buffer.from(m, 'latin1'));
/** Every marker starts with it; one search for the short run of dashes is the fastest pass (about 1 ms for 2 MB). */
const DASHES = Buffer.from('-----', 'latin1');
/** An RSA-4096 PEM is about 800 bytes; a block longer than this is not a key. */
const MAX_PEM_LENGTH = 4096;
/** Bounds the work on a hostile image full of markers. */
const MAX_KEYS = 8;

/**
 * Public keys compiled into the image as PEM text. An esp8266/Arduino sketch built with `public.key` beside it
 * carries that file verbatim (`signing_pubkey`) and from then on installs only images signed by its private key;
 * arduino-esp32 sketches that verify updates carry theirs the same way. Finding one tells the server which key the
 * board will demand, so it can offer to adopt it. TLS certificates are not keys of this kind and are not reported.
 */
export function findEmbeddedPublicKeys(bytes: Uint8Array): EmbeddedPublicKey[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: EmbeddedPublicKey[] = [];
  let at = buffer.indexOf(DASHES);
  while (at !== -1 && found.length < MAX_KEYS) {
    const marker = MARKERS.find(
      (m) => at + m.length <= buffer.length && buffer.compare(m, 0, m.length, at, at + m.length) === 0,
    );
    const key = marker ? readPemAt(buffer, at) : undefined;
    if (key && !found.some((k) => k.digest === key.digest)) found.push(key);
    at = buffer.indexOf(DASHES, marker ? at + marker.length : lastFiveDashes(buffer, at));
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** A marker can only start in the last five dashes of a run: skipping to them keeps long runs linear. */
function lastFiveDashes(buffer: Buffer, at: number): number {
  let end = at + DASHES.length;
  while (end < buffer.length && buffer[end] === 0x2d) end++;
  return Math.max(at + 1, end - DASHES.length);
}

function readPemAt(buffer: Buffer, offset: number): EmbeddedPublicKey | undefined {
  const window = buffer.subarray(offset, offset + MAX_PEM_LENGTH).toString('latin1');
  const end = /-----END (RSA )?PUBLIC KEY-----/.exec(window);
  if (!end) return undefined;
  const parsed = parsePublicKey(window.slice(0, end.index + end[0].length));
  if (!parsed.ok) return undefined;
  const { digest, type, bits, pem } = parsed.key;
  return { offset, digest, type, bits, pem };
}

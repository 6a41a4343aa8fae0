import { IS_PRINTABLE, latin1 } from './ascii.js';

/**
 * Identity a firmware author states on purpose:
 * - our marker, `ESP-OTA:platform=NAME;version=VERSION` (either field may be left out), and
 * - the original Flask server's convention, the update URL compiled into the sketch: `…?dev=NAME&ver=VERSION`.
 */
export interface IdentityMarker {
  platform: string | undefined;
  version: string | undefined;
  offset: number;
  text: string;
  style: 'esp-ota' | 'update-url';
}

const OUR_MARKER = Buffer.from('ESP-OTA:', 'latin1');
const URL_MARKER = Buffer.from('dev=', 'latin1');
const MAX_MARKER = 200;

export function findIdentityMarkers(bytes: Uint8Array): IdentityMarker[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const markers: IdentityMarker[] = [];
  for (const at of occurrences(buffer, OUR_MARKER)) {
    const text = readableFrom(buffer, at);
    const fields = new Map(
      text
        .slice(OUR_MARKER.length)
        .split(';')
        .map((pair) => pair.split('=', 2).map((part) => part.trim()) as [string, string | undefined]),
    );
    const platform = fields.get('platform') || undefined;
    const version = fields.get('version') || undefined;
    if (platform || version) markers.push({ platform, version, offset: at, text, style: 'esp-ota' });
  }
  for (const at of occurrences(buffer, URL_MARKER)) {
    const text = readableFrom(buffer, at);
    const params = new URLSearchParams(text);
    const platform = params.get('dev') || undefined;
    const version = params.get('ver')?.trim() || undefined;
    // `dev=` alone is the URL built at run time; only a complete pair identifies the build.
    if (platform && version) markers.push({ platform, version, offset: at, text, style: 'update-url' });
  }
  return markers;
}

function* occurrences(buffer: Buffer, needle: Buffer): Generator<number> {
  for (let at = buffer.indexOf(needle); at !== -1; at = buffer.indexOf(needle, at + needle.length)) yield at;
}

function readableFrom(buffer: Buffer, at: number): string {
  let end = at;
  while (end < buffer.length && end - at < MAX_MARKER && IS_PRINTABLE[buffer[end]!]) end++;
  return latin1(buffer, at, end);
}

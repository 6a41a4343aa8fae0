import { IS_ALNUM, isDigit, latin1, printableRun } from './ascii.js';

/** A version-looking token found in the binary, with what surrounds it. */
export interface VersionString {
  text: string;
  offset: number;
  /** Up to 80 readable bytes before the token, in the same string. */
  before: string;
  /** The whole readable string the token is part of. */
  context: string;
  /** Followed by `(hexhash)`: how the ESP8266 NONOS SDK and lwIP print their own versions (`2.2.2-dev(38a443e)`). */
  sdkStyle: boolean;
}

const DOT = 0x2e;
const MAX_TOKEN = 64;
/**
 * Three or four numeric parts with an optional `v`, then an optional pre-release (which also covers `git describe`
 * suffixes such as `-21-g66af0e6`) and build metadata. Two-part numbers are too often something else (`%4.0f`,
 * `HTTP/1.1`) to count.
 */
const VERSION_TOKEN =
  /^[vV]?\d{1,9}\.\d{1,9}\.\d{1,9}(?:\.\d{1,9})?(?:-[0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*)?(?:\+[0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*)?/;
const FOUR_NUMBERS = /^\d+\.\d+\.\d+\.\d+$/;
const TOKEN_BYTE = new Uint8Array(256);
for (let b = 0; b < 256; b++) TOKEN_BYTE[b] = IS_ALNUM[b] || b === 0x2e || b === 0x2d || b === 0x2b ? 1 : 0;

/** One pass over the bytes: every `digit.digit` starts a look at the token around it. */
export function findVersionStrings(bytes: Uint8Array): VersionString[] {
  const found: VersionString[] = [];
  const length = bytes.length;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Dots are rare in machine code; the native indexOf jumps between them.
  for (let i = buffer.indexOf(DOT, 1); i !== -1 && i < length - 1; i = buffer.indexOf(DOT, i + 1)) {
    if (!isDigit(bytes[i - 1]) || !isDigit(bytes[i + 1])) continue;
    let start = i - 1;
    while (start > 0 && i - start < 10 && isDigit(bytes[start - 1])) start--;
    if (start > 0 && (bytes[start - 1] === 0x76 || bytes[start - 1] === 0x56)) start--; // v / V
    const previous = start > 0 ? bytes[start - 1]! : 0;
    let end = i + 1;
    while (end < length && end - start < MAX_TOKEN && TOKEN_BYTE[bytes[end]!]) end++;
    i = end - 1; // the dots inside this token are done
    if (IS_ALNUM[previous] || previous === DOT) continue;
    const token = latin1(bytes, start, end);
    const match = VERSION_TOKEN.exec(token);
    if (!match) continue;
    const text = match[0];
    const after = bytes[start + text.length];
    if (after !== undefined && (IS_ALNUM[after] || after === DOT)) continue;
    if (FOUR_NUMBERS.test(text)) continue; // an IP address far more often than a version
    const run = printableRun(bytes, start, start + text.length);
    found.push({
      text,
      offset: start,
      before: latin1(bytes, run.from, start),
      context: latin1(bytes, run.from, run.to),
      sdkStyle: after === 0x28 /* ( */,
    });
  }
  return found;
}

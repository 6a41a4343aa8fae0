import fc from 'fast-check';
import { buildEsp8266App } from '../synthetic/image-builder.js';

/**
 * What a careless or hostile client sends: texts and numbers that break naive parsing, SQL drivers or headers.
 * Used by the route-walking property test (test/hostile-input.test.ts).
 */

/** Put into header and query values so the test can tell whether any of them came back in a response header. */
export const ECHO_MARKER = 'Zq9echo';

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\r\n',
  'x\r\nSet-Cookie: evil=1',
  '\t',
  '\u001b[31m',
  '\u007f',
  '\ud800',
  'a\udc00b',
  '\ud83d',
  '\ufffe',
  '\u202e',
  '%ZZ',
  '%',
  '%00',
  '..',
  '../../etc/passwd',
  '/',
  '\\',
  "'; DROP TABLE platforms; --",
  '<script>alert(1)</script>',
  'true',
  'null',
  '[]',
  '{}',
  'esp32',
  'notachip',
  '5C:CF:7F:12:34:56',
  'x'.repeat(300),
  'x'.repeat(5000),
];

/** Numbers as a query string or form carries them: out of every range, not numbers, or numbers in disguise. */
const HOSTILE_NUMBER_STRINGS = [
  '1e308',
  '-1e308',
  '-1',
  '0',
  '1.5',
  'NaN',
  'Infinity',
  '9007199254740993',
  '2147483648',
  '4294967296',
  '99999999999999999999',
  '0x10',
  ' 1 ',
];

/** Any text, including NUL, other control characters and unpaired surrogates. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NUMBER_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
);

const HOSTILE_NUMBERS = [1e308, -1e308, -1, 0, 1.5, 2 ** 31, 2 ** 32, 2 ** 53 + 2, Number.MAX_VALUE, -0];

/** A JSON value where a scalar (usually a string or an integer) is expected. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileText },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
  { weight: 1, arbitrary: fc.array(hostileText, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', '__proto__', 'constructor'), hostileText) },
);

/** Percent-encodes what encodeURIComponent can; an unpaired surrogate becomes the bytes of one (not UTF-8). */
export function encodeComponent(text: string): string {
  return text.isWellFormed() ? encodeURIComponent(text) : encodeURIComponent(text.toWellFormed()) + '%ED%A0%80';
}

/** A path segment, encoded or deliberately broken (bad escapes, dot segments, encoded slashes). */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: hostileText.filter((text) => text !== '').map(encodeComponent) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%ZZ', '..', '.', '%00', '%ED%A0%80', '%2F', '%2e%2e', '%C0%AF', '%', 'a%20b', '%25'),
  },
);

/** Every query parameter some route reads. */
export const QUERY_NAMES = [
  'before',
  'limit',
  'seenWithinHours',
  'outdated',
  'platform',
  'mac',
  'decision',
  'type',
  'version',
  'release',
  'kind',
  'filename',
  'dev',
  'ver',
  'mode',
  'token',
  'q',
  'sort',
  'dir',
  'notice',
  'next',
  'id',
  'name',
];

/**
 * A query string: some parameters (mostly those the route declares), some given twice, some with broken escapes;
 * values may carry the echo marker.
 */
export function hostileQuery(declared: readonly string[]): fc.Arbitrary<string> {
  const names =
    declared.length > 0
      ? fc.oneof(fc.constantFrom(...declared), fc.constantFrom(...QUERY_NAMES))
      : fc.constantFrom(...QUERY_NAMES);
  const value = fc.oneof(
    { weight: 4, arbitrary: hostileText.map(encodeComponent) },
    { weight: 1, arbitrary: hostileText.map((text) => ECHO_MARKER + encodeComponent(text)) },
    { weight: 1, arbitrary: fc.constantFrom('%ZZ', '%', '%00', '%ED%A0%80') },
    { weight: 1, arbitrary: fc.constantFrom(...EXISTING_VALUES) },
  );
  return fc
    .array(fc.tuple(names, value), { maxLength: 3 })
    .map((pairs) => pairs.map(([name, v]) => `${name}=${v}`).join('&'));
}

/** Body fields any route reads (JSON bodies, forms, multipart fields). */
export const FIELD_NAMES = [
  'name',
  'chip',
  'accessMode',
  'fsPartitionSize',
  'deviceAuth',
  'deviceUser',
  'deviceSecret',
  'mac',
  'label',
  'secret',
  'role',
  'username',
  'password',
  'next',
  'platform',
  'version',
  'release',
  'macs',
  'excluded',
  'pinnedVersion',
  'allowlistLabel',
];

/** Values that exist on the test server, so that some requests get past the lookups to the code behind them. */
export const EXISTING_VALUES = ['Hostile', '5CCF7F123456', '1.0.0'];

/** Characters Node's HTTP client will put in a header value (it refuses control characters, as servers must). */
const headerText = hostileText.map((text) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?'));

/** Device headers and the few others a route reads, with hostile values; some carry the echo marker. */
export const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.constantFrom(
    'x-esp8266-sta-mac',
    'x-esp8266-version',
    'x-esp8266-mode',
    'x-esp8266-free-space',
    'x-esp8266-sketch-md5',
    'x-esp8266-sdk-version',
    'x-esp32-base-mac',
    'x-esp32-version',
    'x-esp32-chip-size',
    'x-esp32-sketch-sha256',
    'x-ota-token',
    'user-agent',
    'range',
    'if-none-match',
    'accept',
  ),
  fc.oneof(
    headerText,
    headerText.map((text) => ECHO_MARKER + text),
  ),
  { maxKeys: 3 },
);

/** A valid image for the test server's platform "Hostile", so that some uploads get as far as being stored. */
export const IMAGE = buildEsp8266App({ strings: ['ESP-OTA:platform=Hostile;version=1.0.0'] });
const BOUNDARY = 'hostile-boundary-7d1f';

function multipart(fields: Record<string, string>, file: Buffer, filename: string): Buffer {
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    file,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** Field names: mostly those the route declares, some from every route. */
function fieldName(declared: readonly string[]): fc.Arbitrary<string> {
  const all = fc.constantFrom(...FIELD_NAMES);
  return declared.length > 0 ? fc.oneof(fc.constantFrom(...declared), all) : all;
}

const fileBytes = fc.oneof(
  fc.constant(IMAGE),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
);

/** A body and its content type: well-formed with hostile values, malformed, cut short, or of the wrong type. */
export function hostileBody(declared: readonly string[]): fc.Arbitrary<{ type?: string; data: Buffer } | undefined> {
  const fields = fc.dictionary(fieldName(declared), hostileText, { maxKeys: 4 });
  return fc.oneof(
    fc.constant(undefined),
    fc
      .dictionary(fieldName(declared), hostileJsonValue, { maxKeys: 4 })
      .map((o) => ({ type: 'application/json', data: Buffer.from(JSON.stringify(o)) })),
    fc
      .constantFrom('{', '[]', '"x"', '1e400', 'null', '{"__proto__":{"role":"admin"}}', '{"name":"a\\u0000b"}')
      .map((text) => ({ type: 'application/json', data: Buffer.from(text) })),
    fields.map((form) => ({
      type: 'application/x-www-form-urlencoded',
      data: Buffer.from(
        Object.entries(form)
          .map(([k, v]) => `${k}=${encodeComponent(v)}`)
          .join('&'),
      ),
    })),
    fc
      .constantFrom('name=%ZZ', 'name=%00&chip=%ED%A0%80', 'mac=&label=%FF', '%=%')
      .map((text) => ({ type: 'application/x-www-form-urlencoded', data: Buffer.from(text) })),
    fc.tuple(fields, fileBytes, hostileText).map(([form, file, filename]) => ({
      type: `multipart/form-data; boundary=${BOUNDARY}`,
      data: multipart(form, file, filename.replace(/["\r\n]/g, '')),
    })),
    fc.tuple(fields, fileBytes, fc.nat()).map(([form, file, cut]) => {
      const whole = multipart(form, file, 'firmware.bin');
      const truncated = whole.subarray(0, cut % (whole.length - BOUNDARY.length - 6));
      return { type: `multipart/form-data; boundary=${BOUNDARY}`, data: truncated };
    }),
    fc
      .tuple(
        fc.constantFrom('multipart/form-data', 'multipart/form-data; boundary=', 'multipart/mixed'),
        fields,
        fileBytes,
      )
      .map(([type, form, file]) => ({ type, data: multipart(form, file, 'firmware.bin') })),
    fileBytes.map((data) => ({ type: 'application/octet-stream', data })),
    fc
      .constantFrom('text/plain', 'application/xml', 'application/json; charset=utf-16', 'image/png', 'x/y; a=%ZZ')
      .map((type) => ({ type, data: Buffer.from('name=a&{"name":"a"}') })),
  );
}

/**
 * A device's outcome report (`POST /ota/<platform>/report`) with a valid outcome and hostile other fields, so that
 * requests get past the body schema to the code behind it (device naming, admission, the fleet).
 */
export const hostileReportBody: fc.Arbitrary<{ type: string; data: Buffer }> = fc
  .record(
    {
      outcome: fc.constantFrom('success', 'failure'),
      version: fc.oneof(fc.constantFrom('1.0.0', '2.0.0'), hostileText),
      reason: hostileText,
      mac: fc.oneof(fc.constantFrom(...EXISTING_VALUES), hostileText),
    },
    { requiredKeys: ['outcome'] },
  )
  .map((o) => ({ type: 'application/json', data: Buffer.from(JSON.stringify(o)) }));

import type { IncomingHttpHeaders } from 'node:http';
import { whyNotClientText } from '../../lib/client-text.js';
import { normalizeMac } from '../../lib/mac.js';
import { isValidVersionText, reportedVersion } from '../../lib/version.js';
import { readDeviceCredentials, type DeviceCredentials } from './device-credentials.js';

export type DeviceFamily = 'esp8266' | 'esp32';
export type UpdateMode = 'sketch' | 'spiffs' | 'littlefs' | 'fatfs' | 'flashfs' | 'version';
export const FILESYSTEM_MODES: ReadonlySet<UpdateMode> = new Set(['spiffs', 'littlefs', 'fatfs', 'flashfs']);

/** What a device told us about itself, from the query and its `x-ESP8266-*` / `x-ESP32-*` headers (protocol.md §1). */
export interface EspRequest {
  /** `arduino`: the /update protocol, which needs the running version; `direct`: a stable URL that always serves. */
  client: 'arduino' | 'direct';
  platform: string;
  mac: string | undefined;
  family: DeviceFamily | undefined;
  mode: UpdateMode;
  version: string | undefined;
  freeSpace: number | undefined;
  chipSize: number | undefined;
  sketchSize: number | undefined;
  sketchMd5: string | undefined;
  sketchSha256: string | undefined;
  sdkVersion: string | undefined;
  credentials: DeviceCredentials;
}

export class MalformedRequestError extends Error {}

type Query = Record<string, string | string[] | undefined>;
const MODES = new Set<string>(['sketch', 'spiffs', 'littlefs', 'fatfs', 'flashfs', 'version']);

/** Turns an update request into typed facts, or a `MalformedRequestError` that says what is wrong (→ 400). */
export function parseEspRequest(query: Query, headers: IncomingHttpHeaders, pathPlatform?: string): EspRequest {
  const family = detectFamily(headers);
  const names = family ? HEADER_NAMES[family] : undefined;
  const header = (name: DeviceHeader): string | undefined => {
    if (!names) return undefined;
    const fullName = names[name];
    const value = headers[fullName];
    if (Array.isArray(value)) throw new MalformedRequestError(`header ${fullName} was sent more than once`);
    const trimmed = value?.trim();
    return trimmed ? trimmed : undefined;
  };

  const platform = pathPlatform ?? single(query, 'dev');
  const where = pathPlatform !== undefined ? 'in the path' : 'in dev=';
  if (!platform) throw new MalformedRequestError('the platform is missing: send ?dev=<platform name>');
  if (platform.length > 64) throw new MalformedRequestError(`the platform name ${where} is longer than 64 characters`);
  // It is looked up, logged and recorded with the check: text a device may send, like every other client's.
  const why = whyNotClientText(platform);
  if (why) throw new MalformedRequestError(`the platform name ${where} contains ${why}`);

  const mode = (header('mode') ?? single(query, 'mode') ?? 'sketch').toLowerCase();
  if (!MODES.has(mode)) throw new MalformedRequestError(`unknown update mode "${mode}"`);

  const sentVersion = header('version') ?? single(query, 'ver');
  if (sentVersion !== undefined && !isValidVersionText(sentVersion)) {
    throw new MalformedRequestError('the version must be 1–64 printable characters');
  }
  const version = sentVersion === undefined ? undefined : reportedVersion(sentVersion);

  // STA first; BASE (newer ESP32 cores) or AP when STA is missing or empty, e.g. on Ethernet-only boards.
  const macText = header('sta-mac') ?? header('base-mac') ?? header('ap-mac') ?? single(query, 'mac');
  let mac: string | undefined;
  if (macText !== undefined) {
    mac = normalizeMac(macText);
    if (!mac) throw new MalformedRequestError(`"${macText.slice(0, 40)}" is not a MAC address`);
  }

  return {
    client: 'arduino',
    platform,
    mac,
    family,
    mode: mode as UpdateMode,
    version,
    freeSpace: decimal(header('free-space'), 'free-space'),
    chipSize: decimal(header('chip-size'), 'chip-size'),
    sketchSize: decimal(header('sketch-size'), 'sketch-size'),
    sketchMd5: hexDigest(header('sketch-md5'), 32, 'sketch-md5')?.toLowerCase(),
    sketchSha256: hexDigest(header('sketch-sha256'), 64, 'sketch-sha256')?.toUpperCase(),
    sdkVersion: header('sdk-version')?.slice(0, 64),
    credentials: readDeviceCredentials(headers, single(query, 'token')),
  };
}

const DEVICE_HEADERS = [
  'mode',
  'version',
  'sta-mac',
  'base-mac',
  'ap-mac',
  'free-space',
  'chip-size',
  'sketch-size',
  'sketch-md5',
  'sketch-sha256',
  'sdk-version',
] as const;
type DeviceHeader = (typeof DEVICE_HEADERS)[number];

/**
 * Full header names per family, built once: a name concatenated per request is a new string that V8 must hash
 * before every lookup, which showed in profiles of the device-check path.
 */
const HEADER_NAMES: Record<DeviceFamily, Record<DeviceHeader, string>> = {
  esp8266: headerNames('esp8266'),
  esp32: headerNames('esp32'),
};

function headerNames(family: DeviceFamily): Record<DeviceHeader, string> {
  return Object.fromEntries(DEVICE_HEADERS.map((name) => [name, `x-${family}-${name}`])) as Record<
    DeviceHeader,
    string
  >;
}

/** Headers every client version sends (protocol.md §1); any one of them names the family. */
const ESP8266_MARKERS = ['x-esp8266-sta-mac', 'x-esp8266-mode', 'x-esp8266-free-space', 'x-esp8266-version'];
const ESP32_MARKERS = ['x-esp32-sta-mac', 'x-esp32-base-mac', 'x-esp32-mode', 'x-esp32-free-space', 'x-esp32-version'];

function detectFamily(headers: IncomingHttpHeaders): DeviceFamily | undefined {
  if (ESP8266_MARKERS.some((name) => headers[name] !== undefined)) return 'esp8266';
  if (ESP32_MARKERS.some((name) => headers[name] !== undefined)) return 'esp32';
  // Unusual clients may send other device headers only; look at every name (rare, so the cost does not matter).
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-esp8266-')) return 'esp8266';
    if (name.startsWith('x-esp32-')) return 'esp32';
  }
  const agent = headers['user-agent'] ?? '';
  if (agent.startsWith('ESP8266-http-Update')) return 'esp8266';
  if (agent.startsWith('ESP32-http-Update') || agent.startsWith('ESP32 HTTP Client')) return 'esp32';
  return undefined;
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new MalformedRequestError(`${name}= was given more than once`);
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function decimal(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new MalformedRequestError(`${name} must be a decimal number`);
  return Number(value);
}

function hexDigest(value: string | undefined, length: number, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.length !== length || !/^[0-9a-f]+$/i.test(value)) {
    throw new MalformedRequestError(`${name} must be ${length} hex digits`);
  }
  return value;
}

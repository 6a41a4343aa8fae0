import type { AppDescriptor } from './analysis.js';
import { APP_DESC_OFFSET } from './app-descriptor.js';
import type { IdentityMarker } from './identity-markers.js';
import type { VersionString } from './version-strings.js';
import { sameVersion } from '../lib/version.js';

export type VersionTier = 'marker' | 'next-to-platform' | 'other';

export interface VersionCandidate {
  value: string;
  tier: VersionTier;
  /** For `next-to-platform`: the platform name written before it. */
  platform: string | undefined;
  context: string;
  offset: number;
  occurrences: number;
}

/**
 * Words that, written right before a version, say whose version it is: the SDK, the core, the IDF and libraries
 * that print banners. Such versions are never the sketch's.
 */
const COMPONENT_LABELS = new Set(
  [
    'esp-idf',
    'idf',
    'esp_idf',
    'sdk',
    'nonos',
    'core',
    'arduino',
    'esp8266',
    'esp32',
    'freertos',
    'lwip',
    'lwip2',
    'bearssl',
    'mbedtls',
    'upnp',
    'ipbridge',
    'http',
    'boot',
    'eboot',
    'littlefs',
    'spiffs',
    'arduinojson',
    'pubsubclient',
    'asynctcp',
    'espasyncwebserver',
    'esp8266httpclient',
    'esp8266httpupdate',
    'httpupdate',
    'httpclient',
    'wifimanager',
    'nimble',
    'fastled',
    'neopixelbus',
    'painlessmesh',
    'esphome',
    'platformio',
  ].map((label) => label.toLowerCase()),
);
const APP_DESC_END = APP_DESC_OFFSET + 256;
const SEPARATORS = /[\s/_:=,;@"'(-]+$/;
const VERSION_WORD = /(?<![0-9A-Za-z])(?:version|ver|fw|firmware|rev)$/i;

/**
 * Drops version strings that belong to something else (SDK banners, the core's or IDF's own version, library
 * banners), tiers the rest (marker > written right after the platform's name > anywhere else) and merges equal
 * versions, so the caller can tell a certain answer from a list to ask about.
 */
export function rankVersionStrings(
  strings: VersionString[],
  markers: IdentityMarker[],
  platformNames: string[],
  coreDescriptor: AppDescriptor | undefined,
): VersionCandidate[] {
  const candidates: VersionCandidate[] = [];
  const add = (value: string, tier: VersionTier, context: string, offset: number, platform?: string): void => {
    const same = candidates.find((c) => sameVersion(c.value, value));
    if (!same) return void candidates.push({ value, tier, platform, context, offset, occurrences: 1 });
    same.occurrences++;
    if (tierRank(tier) < tierRank(same.tier)) Object.assign(same, { tier, platform, context, offset });
  };
  for (const marker of markers) if (marker.version) add(marker.version, 'marker', marker.text, marker.offset);

  const markerRanges = markers.map((m) => [m.offset, m.offset + m.text.length] as const);
  for (const found of strings) {
    if (markerRanges.some(([from, to]) => found.offset >= from && found.offset < to)) continue;
    if (belongsToSomethingElse(found, coreDescriptor)) continue;
    const platform = platformBefore(found.before, platformNames);
    add(found.text, platform ? 'next-to-platform' : 'other', found.context, found.offset, platform);
  }
  return candidates.sort(
    (a, b) => tierRank(a.tier) - tierRank(b.tier) || b.occurrences - a.occurrences || a.offset - b.offset,
  );
}

/** Numbers that look like versions but name standards (IEEE 802.11 / 802.15.4). */
const NOT_VERSIONS = /^802\./;

function belongsToSomethingElse(found: VersionString, coreDescriptor: AppDescriptor | undefined): boolean {
  if (found.sdkStyle || NOT_VERSIONS.test(found.text)) return true;
  if (coreDescriptor) {
    if (found.offset >= APP_DESC_OFFSET && found.offset < APP_DESC_END) return true;
    const coreStrings = [coreDescriptor.version, coreDescriptor.idfVersion];
    if (coreStrings.some((s) => s.includes(found.text) || found.text.includes(s.trim() || '\0'))) return true;
  }
  const label = /([0-9A-Za-z_-]+)[\s/:=]*v?$/i.exec(found.before.replace(/\s+$/, ''))?.[1]?.toLowerCase();
  return label !== undefined && COMPONENT_LABELS.has(label.replace(/[-_]+$/, ''));
}

/** "WLED v0.15.0", "AirPatrol/1.2.3", "AirPatrol version: 1.2.3": the name, then at most a version word. */
function platformBefore(before: string, platformNames: string[]): string | undefined {
  const trimmed = before.replace(SEPARATORS, '').replace(VERSION_WORD, '').replace(SEPARATORS, '').toLowerCase();
  return platformNames.find((name) => {
    const lower = name.toLowerCase();
    if (!trimmed.endsWith(lower)) return false;
    const preceding = trimmed.charAt(trimmed.length - lower.length - 1);
    return preceding === '' || !/[0-9a-z]/.test(preceding);
  });
}

function tierRank(tier: VersionTier): number {
  return tier === 'marker' ? 0 : tier === 'next-to-platform' ? 1 : 2;
}

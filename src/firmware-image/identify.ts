import type { AppDescriptor, ImageAnalysis } from './analysis.js';
import { isArduinoCoreDescriptor } from './app-descriptor.js';
import { findIdentityMarkers } from './identity-markers.js';
import { PlatformNameIndex } from './platform-names.js';
import { rankVersionStrings, type VersionCandidate } from './rank-versions.js';
import { findVersionStrings } from './version-strings.js';
import { sameVersion } from '../lib/version.js';
import { inflateFirstMember } from './gzip-member.js';

export type IdentitySource = 'explicit' | 'descriptor' | 'marker' | 'next-to-platform' | 'name-in-binary';

export interface IdentityField {
  /** Set when the analyser is sure (or the uploader said so). */
  value: string | undefined;
  status: 'found' | 'ambiguous' | 'missing';
  source: IdentitySource | undefined;
  /** How it was found, for people: "app descriptor (esp_app_desc_t.version)". */
  evidence: string | undefined;
  candidates: IdentityCandidate[];
}

export interface IdentityCandidate {
  value: string;
  source: IdentitySource | 'string-in-binary';
  /** The readable string it came from. */
  context: string;
  offset: number;
  occurrences: number;
}

export interface Identity {
  platform: IdentityField;
  version: IdentityField;
  /** Explicit values that contradict what the image states; the explicit value still wins. */
  conflicts: string[];
}

export interface IdentifyOptions {
  /** Names of the platforms that exist; matched case-insensitively as whole tokens. */
  platforms?: PlatformNameIndex | readonly string[];
  explicit?: { platform?: string | undefined; version?: string | undefined };
}

const ABSENT: IdentityField = {
  value: undefined,
  status: 'missing',
  source: undefined,
  evidence: undefined,
  candidates: [],
};

/**
 * Works out which platform and version an app image belongs to (README "How uploads are identified"). ESP-IDF apps
 * state both in their app descriptor; Arduino sketches (ESP8266, and ESP32 whose descriptor is the core's) are
 * searched for an explicit marker, known platform names and version strings. When the evidence does not single out
 * one answer the field is `ambiguous` with its candidates: the caller asks, it never guesses.
 */
export function identify(bytes: Uint8Array, analysis: ImageAnalysis, options: IdentifyOptions = {}): Identity {
  const explicit = options.explicit ?? {};
  if (analysis.kind !== 'app') return withExplicit({ platform: ABSENT, version: ABSENT, conflicts: [] }, explicit);
  const descriptor = analysis.family === 'esp32' ? analysis.descriptor : undefined;
  const index =
    options.platforms instanceof PlatformNameIndex ? options.platforms : new PlatformNameIndex(options.platforms ?? []);

  let detected: Identity;
  if (descriptor && !isArduinoCoreDescriptor(descriptor)) {
    detected = fromDescriptor(descriptor, index);
  } else {
    // A gzip-compressed sketch is searched as the device will run it: inflated (the analyser has bounded its size).
    // The first member only, as eboot inflates it: a signed .bin.gz carries its signature after the member.
    const content =
      analysis.family === 'esp8266' && analysis.compression === 'gzip'
        ? inflateFirstMember(bytes, analysis.inflatedSize ?? bytes.length * 1032).inflated
        : bytes;
    detected = fromBinary(content, index, descriptor);
  }
  return withExplicit(detected, explicit);
}

function fromDescriptor(descriptor: AppDescriptor, index: PlatformNameIndex): Identity {
  const project = descriptor.projectName.trim();
  const known = index.canonical(project);
  return {
    platform: project ? found(known ?? project, 'descriptor', `app descriptor project name "${project}"`) : ABSENT,
    version: descriptor.version.trim()
      ? found(descriptor.version.trim(), 'descriptor', 'app descriptor (esp_app_desc_t.version)')
      : ABSENT,
    conflicts: [],
  };
}

function fromBinary(bytes: Uint8Array, index: PlatformNameIndex, coreDescriptor: AppDescriptor | undefined): Identity {
  const markers = findIdentityMarkers(bytes);
  const mentions = index.find(bytes);

  const markerPlatforms = distinct(
    markers.flatMap((m) => (m.platform ? [m.platform] : [])),
    sameName,
  );
  let platform: IdentityField;
  if (markerPlatforms.length === 1) {
    const name = index.canonical(markerPlatforms[0]!) ?? markerPlatforms[0]!;
    platform = found(name, 'marker', `marker "${markers.find((m) => m.platform)!.text}"`);
  } else {
    const names = countBy(mentions.map((m) => m.name));
    const candidates: IdentityCandidate[] = [...names].map(([name, occurrences]) => {
      const first = mentions.find((m) => m.name === name)!;
      return { value: name, source: 'name-in-binary', context: first.context, offset: first.offset, occurrences };
    });
    for (const name of markerPlatforms) {
      const marker = markers.find((m) => m.platform === name)!;
      candidates.unshift({
        value: name,
        source: 'marker',
        context: marker.text,
        offset: marker.offset,
        occurrences: 1,
      });
    }
    platform =
      markerPlatforms.length === 0 && candidates.length === 1
        ? {
            ...found(candidates[0]!.value, 'name-in-binary', `the name appears in "${candidates[0]!.context}"`),
            candidates,
          }
        : { ...ABSENT, status: candidates.length > 0 ? 'ambiguous' : 'missing', candidates };
  }

  const platformNames = platform.value ? [platform.value] : platform.candidates.map((c) => c.value);
  const ranked = rankVersionStrings(findVersionStrings(bytes), markers, platformNames, coreDescriptor);
  const version = chooseVersion(ranked);
  // Several known names appear, but the version is written after exactly one of them: that one is the sketch's.
  if (platform.status === 'ambiguous' && version.source === 'next-to-platform') {
    const named = ranked.find((c) => c.tier === 'next-to-platform')!;
    platform = {
      ...found(named.platform!, 'next-to-platform', `written before the version in "${named.context}"`),
      candidates: platform.candidates,
    };
  }
  return { platform, version, conflicts: [] };
}

/** Only a marker, or a single version written right after the platform's name, is taken without asking. */
function chooseVersion(ranked: VersionCandidate[]): IdentityField {
  const candidates: IdentityCandidate[] = ranked.map((c) => ({
    value: c.value,
    source: c.tier === 'marker' ? 'marker' : c.tier === 'next-to-platform' ? 'next-to-platform' : 'string-in-binary',
    context: c.context,
    offset: c.offset,
    occurrences: c.occurrences,
  }));
  for (const tier of ['marker', 'next-to-platform'] as const) {
    const inTier = ranked.filter((c) => c.tier === tier);
    if (inTier.length === 1) {
      const evidence =
        tier === 'marker'
          ? `marker "${inTier[0]!.context}"`
          : `written after the platform name in "${inTier[0]!.context}"`;
      return { ...found(inTier[0]!.value, tier, evidence), candidates };
    }
    if (inTier.length > 1) return { ...ABSENT, status: 'ambiguous', candidates };
  }
  return { ...ABSENT, status: candidates.length > 0 ? 'ambiguous' : 'missing', candidates };
}

function withExplicit(
  detected: Identity,
  explicit: { platform?: string | undefined; version?: string | undefined },
): Identity {
  const conflicts = [...detected.conflicts];
  let { platform, version } = detected;
  const givenPlatform = explicit.platform?.trim();
  if (givenPlatform) {
    if (platform.value && !sameName(platform.value, givenPlatform) && platform.source === 'descriptor') {
      conflicts.push(
        `platform "${givenPlatform}" was given, but the image's app descriptor names project "${platform.value}"`,
      );
    }
    platform = { ...found(givenPlatform, 'explicit', 'given by the uploader'), candidates: platform.candidates };
  }
  const givenVersion = explicit.version?.trim();
  if (givenVersion) {
    if (
      version.value &&
      !sameVersion(version.value, givenVersion) &&
      (version.source === 'descriptor' || version.source === 'marker')
    ) {
      conflicts.push(
        `version "${givenVersion}" was given, but the image states "${version.value}" (${version.evidence}); devices running it will report "${version.value}"`,
      );
    }
    // The uploader repeating what the build states keeps the build's evidence: the version is still the image's own.
    const stated =
      (version.source === 'descriptor' || version.source === 'marker') &&
      version.value !== undefined &&
      sameVersion(version.value, givenVersion);
    version = stated
      ? { ...version, value: givenVersion }
      : { ...found(givenVersion, 'explicit', 'given by the uploader'), candidates: version.candidates };
  }
  return { platform, version, conflicts };
}

function found(value: string, source: IdentitySource, evidence: string): IdentityField {
  return { value, status: 'found', source, evidence, candidates: [] };
}

function sameName(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

function distinct<T>(values: T[], same: (a: T, b: T) => boolean): T[] {
  const out: T[] = [];
  for (const value of values) if (!out.some((seen) => same(seen, value))) out.push(value);
  return out;
}

function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

import type { ImageAnalysis } from '../../firmware-image/index.js';
import { isArduinoCoreDescriptor } from '../../firmware-image/app-descriptor.js';
import type { Identity } from '../../firmware-image/identify.js';
import { compareVersions, isOrderable } from '../../lib/version.js';

/**
 * Why an upload was, or was not, released (README "Release policy"). The code is for machines (the upload answer,
 * the `upload` event's reason); the sentence beside it is for people.
 */
export type ReleaseCode =
  /** Certain and the platform's policy is `auto`: released. */
  | 'certain'
  /** The uploader asked for the release (`release=true`): a person's release. */
  | 'released-by-uploader'
  /** Imported (import-legacy) from a server where it was the released image. */
  | 'released-by-import'
  /** The version was read from text in the binary (e.g. after the platform name), not stated by the build. */
  | 'version-inferred'
  /** The version was given by the uploader, not stated by the build. */
  | 'version-given'
  /** The version cannot be ordered (`3d4085c-dirty`): newer or older cannot be told. */
  | 'version-unorderable'
  /** The version does not order strictly above the released one. */
  | 'not-newer'
  /** The app descriptor names another project; the uploader forced the upload. */
  | 'project-forced'
  /** Signed by another key than the released image and not confirmed (confirmKeyChange): kept (docs/security.md). */
  | 'key-change'
  /** A person chose the released image; uploads do not move it. */
  | 'release-pinned'
  /** The platform's policy is `manual`. */
  | 'policy-manual'
  /** A rollout runs on the platform: an upload does not go around it to every device. */
  | 'rollout-running'
  /** The platform's policy is `rollout`: a rollout of this image was started. */
  | 'rollout-started'
  /** The platform's policy is `rollout`, but this server has no rollout engine: kept as with `manual`. */
  | 'rollout-unavailable'
  /** The platform's policy is `rollout`, but the rollout could not be started (the sentence says why). */
  | 'rollout-failed';

export interface ReleaseVerdict {
  code: ReleaseCode;
  reason: string;
}

export interface CertaintyInput {
  identity: Identity;
  analysis: ImageAnalysis;
  /** The version the image is stored as. */
  version: string;
  platformName: string;
  /** The version of the released image of the same kind, if any. */
  releasedVersion: string | undefined;
}

/**
 * How platform and project names are compared: case-insensitive, and the separators `-`, `_`, `.` and spaces do not
 * count, because ESP-IDF project names are CMake identifiers (`garden_pump`) while people name platforms freely
 * ("Garden Pump", "garden-pump").
 */
export function projectKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s._-]+/g, '');
}

/** The app descriptor's project when it names the sketch's own (not the Arduino core's lib-builder, not empty). */
export function descriptorProject(analysis: ImageAnalysis): string | undefined {
  if (analysis.kind !== 'app' || analysis.family !== 'esp32') return undefined;
  if (isArduinoCoreDescriptor(analysis.descriptor)) return undefined;
  return analysis.descriptor.projectName.trim() || undefined;
}

/** True when the image's descriptor names a project other than the platform. */
export function projectContradicts(analysis: ImageAnalysis, platformName: string): boolean {
  const project = descriptorProject(analysis);
  return project !== undefined && projectKey(project) !== projectKey(platformName);
}

/**
 * Certain: the version is the build's own statement (app descriptor, our marker, or the original server's compiled
 * update URL), the descriptor's project (if it names one) is the platform, and the version orders strictly above
 * the released one. Returns undefined when certain, otherwise the first reason it is not. Pure.
 */
export function uncertainty(input: CertaintyInput): ReleaseVerdict | undefined {
  const { identity, version } = input;
  const field = identity.version;
  if (field.source === 'explicit') {
    return {
      code: 'version-given',
      reason: `version ${version} was given by the uploader, not stated by the image: a person must release it`,
    };
  }
  if (field.source !== 'descriptor' && field.source !== 'marker') {
    return {
      code: 'version-inferred',
      reason: `version ${version} was inferred (${field.evidence ?? 'read from text in the image'}), not stated by the build: check it and release it by hand`,
    };
  }
  const project = descriptorProject(input.analysis);
  if (project !== undefined && projectKey(project) !== projectKey(input.platformName)) {
    return {
      code: 'project-forced',
      reason: `the app descriptor names project "${project}", not "${input.platformName}"; the upload was forced, so it is kept but not released`,
    };
  }
  if (!isOrderable(version)) {
    return {
      code: 'version-unorderable',
      reason: `version ${version} cannot be ordered against other versions (README "How versions are compared"): release it by hand`,
    };
  }
  if (input.releasedVersion !== undefined && compareVersions(version, input.releasedVersion) !== 1) {
    return {
      code: 'not-newer',
      reason: `version ${version} does not order above the released ${input.releasedVersion}: release it by hand to move devices to it`,
    };
  }
  return undefined;
}

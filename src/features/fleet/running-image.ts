import { versionKey } from '../../lib/version.js';
import type { KeptImage, PlatformView } from '../update-check/catalogue-snapshot.js';
import { FILESYSTEM_MODES, type EspRequest } from '../update-check/esp-request.js';

/** What a device runs, as far as a check tells: the version, and the kept image when it is one. */
export interface RunningImage {
  version: string | null;
  imageId: number | null;
}

/**
 * What the device runs, from the strongest evidence: the digest of its running sketch (ESP32 SHA-256 or MD5, with
 * the ESP8266 flash-mode variants) names a kept image; else the version it reports, which may also name one.
 * Undefined when the check says nothing about the app it runs: a filesystem update, or a stable-URL client that
 * sends neither version nor digest (its record keeps what it ran before).
 */
export function runningImage(request: EspRequest, platform: PlatformView): RunningImage | undefined {
  if (FILESYSTEM_MODES.has(request.mode)) return undefined;
  const byDigest =
    (request.sketchSha256 !== undefined ? platform.imageByDigest.get(request.sketchSha256) : undefined) ??
    (request.sketchMd5 !== undefined ? platform.imageByDigest.get(request.sketchMd5) : undefined);
  if (request.version !== undefined) {
    const byVersion = byDigest ?? platform.imageByVersion.get(versionKey(request.version));
    return { version: request.version, imageId: byVersion?.id ?? null };
  }
  if (byDigest) return { version: byDigest.version, imageId: byDigest.id };
  return undefined;
}

/** True when the device runs this image (by id, digest or version). */
export function runs(running: RunningImage | undefined, image: KeptImage): boolean {
  if (!running) return false;
  if (running.imageId !== null) return running.imageId === image.id;
  return running.version !== null && versionKey(running.version) === versionKey(image.version);
}

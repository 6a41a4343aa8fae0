import type { ChipName } from '../../firmware-image/index.js';
import type { ReleasedImage } from './catalogue-snapshot.js';
import type { Decision } from './decide.js';
import type { EspRequest } from './esp-request.js';

/**
 * Manifests for clients that fetch a JSON description before the image (protocol.md §6.1 ESPHome, §6.2 esp32FOTA).
 * Each is a *view* of the one decision (`decide`), never a decision of its own: the image a manifest names is the
 * image the decision serves, and "nothing to do" becomes whatever makes that client stay where it is. Pure: the
 * endpoint supplies the decision and the URLs.
 */
export type ManifestAnswer =
  | { kind: 'json'; body: Buffer }
  /** No manifest: the status (and reason) a check of the Arduino route would get. */
  | { kind: 'status'; status: 304 | 400 | 401 | 403 | 404; reason: string; message: string };

/** The manifest's JSON as bytes: `Content-Length` is their count (ESPHome sizes its buffer from it). */
function json(value: unknown): ManifestAnswer {
  return { kind: 'json', body: Buffer.from(JSON.stringify(value), 'utf8') };
}

function noManifest(decision: Decision): ManifestAnswer {
  if (decision.action === 'refuse')
    return { kind: 'status', status: decision.status, reason: decision.reason, message: decision.message };
  return { kind: 'status', status: 304, reason: decision.reason, message: decision.message };
}

export interface EsphomeLinks {
  /** Where the image is fetched: host-relative, so ESPHome keeps the manifest URL's scheme, host and `user:pass@`. */
  imagePath: string;
  /** The platform's page, for Home Assistant's "release notes" link; none when the server's address is unknown. */
  releaseUrl: string | undefined;
}

/**
 * ESPHome (`update: platform: http_request`): `{name, version, builds[{chipFamily, ota{path, md5, summary,
 * release_url}}]}`. ESPHome offers an update whenever `version` differs from its own `project.version` (string
 * inequality, H), so the version this manifest shows is the one the device should run:
 * - served: the decided image's version (newer, or older when a person pinned or rolled back on purpose);
 * - nothing to do and the device said its version (`?ver=`): that very string, so it stays;
 * - nothing to do and no version known: no manifest (304), since any version shown could be taken as an update.
 * `md5` is the lowercase MD5 of the file the image path serves (the whole file, no transfer encoding).
 */
export function esphomeManifest(
  decision: Decision,
  request: EspRequest,
  platformName: string,
  links: EsphomeLinks,
): ManifestAnswer {
  if (decision.action === 'serve') {
    return json(esphomeDocument(platformName, decision.image.version, decision.image, decision.message, links));
  }
  if (decision.action === 'not-modified' && request.version !== undefined && decision.image) {
    // `path` and `md5` still name the decided image, which ESPHome does not fetch while the versions are equal;
    // a forced install asks the image path, which the same decision answers 304.
    return json(esphomeDocument(platformName, request.version, decision.image, decision.message, links));
  }
  return noManifest(decision);
}

function esphomeDocument(
  name: string,
  version: string,
  image: ReleasedImage,
  summary: string,
  links: EsphomeLinks,
): unknown {
  return {
    name,
    version,
    builds: [
      {
        chipFamily: esphomeChipFamily(image),
        ota: {
          path: links.imagePath,
          md5: image.md5.toLowerCase(),
          summary,
          ...(links.releaseUrl ? { release_url: links.releaseUrl } : {}),
        },
      },
    ],
  };
}

/**
 * ESPHome's variant names (`ESPHOME_VARIANT`, protocol.md §6.1): `ESP8266`, `ESP32`, `ESP32-C3`, `ESP32-S3`, …
 * The device takes the first build whose `chipFamily` equals its own, so an image for another chip is never
 * installed: the chip rule holds on the device itself.
 */
export function esphomeChipFamily(image: Pick<ReleasedImage, 'chip' | 'family'>): string {
  const chip: ChipName | undefined = image.chip ?? image.family;
  if (!chip) return 'ESP32';
  if (chip === 'esp8266' || chip === 'esp32') return chip.toUpperCase();
  return `ESP32-${chip.slice('esp32'.length).toUpperCase()}`;
}

/** esp32FOTA parses the manifest into a 2,048-byte JSON document (F): ours must stay well below. */
export const ESP32FOTA_MANIFEST_LIMIT = 2048;

/**
 * esp32FOTA: `[{type, version, url}]` when the decision serves an image, `[]` when there is nothing to do (it then
 * finds no entry for its type and does nothing, with no error logged). `type` is the platform's name (the sketch
 * names its firmware type so); `version` drops a leading `v` because esp32FOTA parses it as semver and takes an
 * unparsable one as 0.0.0 (never newer). It installs only a newer version, so a rollback is not installed.
 */
export function esp32FotaManifest(decision: Decision, platformName: string, imageUrl: string): ManifestAnswer {
  if (decision.action === 'serve') {
    return json([{ type: platformName, version: decision.image.version.replace(/^v/i, ''), url: imageUrl }]);
  }
  if (decision.action === 'not-modified') return json([]);
  return noManifest(decision);
}

/**
 * The MAC esp32FOTA's `?id=` stands for: `ESP.getEfuseMac()` printed as a decimal u64, which holds the six MAC bytes
 * little-endian (the first byte lowest). Undefined when the text is not such a number.
 */
export function macFromEsp32FotaId(id: string): string | undefined {
  if (!/^\d{1,15}$/.test(id)) return undefined;
  const value = Number(id);
  if (value >= 2 ** 48) return undefined;
  let mac = '';
  let rest = value;
  for (let i = 0; i < 6; i++) {
    mac += (rest % 256).toString(16).padStart(2, '0');
    rest = Math.floor(rest / 256);
  }
  return mac;
}

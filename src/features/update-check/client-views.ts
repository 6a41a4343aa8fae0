import { versionKey } from '../../lib/version.js';
import type { PlatformView, ReleasedImage } from './catalogue-snapshot.js';
import type { EspRequest } from './esp-request.js';

/**
 * How the other ESP8266 clients see a platform (docs/clients.md): the same decision, over a platform view or with
 * a body chosen for the client. Nothing here decides whether a device is served; `decide()` does.
 */

/** What a Tasmota file name asks for (protocol.md §6.3): the `-minimal` image, and gzip (`.gz`). */
export interface TasmotaFile {
  minimal: boolean;
  gzip: boolean;
}

/** File names Tasmota fetches: `tasmota.bin`, `tasmota-DE.bin.gz`, `tasmota-minimal.bin`, `firmware.ino.bin`… */
const TASMOTA_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

export function parseTasmotaFile(name: string): TasmotaFile | undefined {
  if (!TASMOTA_FILE.test(name)) return undefined;
  const dot = name.indexOf('.');
  // Tasmota names the minimal image by replacing the stem's last `-suffix` with `-minimal`, keeping the extension.
  const stem = dot < 0 ? name : name.slice(0, dot);
  return { minimal: stem.endsWith('-minimal'), gzip: name.endsWith('.gz') };
}

const NO_PINS: ReadonlyMap<string, ReleasedImage> = new Map();

/**
 * The platform as the `-minimal` names see it: its paired minimal image is the release, and nothing steers a device
 * elsewhere (no rollout, no pins: a device asks for the minimal image only on its way to the full one, whose own
 * answer went through them). Admission — credentials, allowlist — and the update window stay the platform's.
 */
export function minimalView(platform: PlatformView): PlatformView {
  return { ...platform, app: platform.minimal, rollout: undefined, pins: NO_PINS, appPinned: false };
}

/**
 * A refusal the Tasmota client must see for itself to start its two-step upgrade: it asks for the `-minimal` image
 * only after its own size (−100) or flash (−107) check failed, never after a 403 (protocol.md §6.3).
 */
export function startsTwoStep(platform: PlatformView | undefined, reason: string): boolean {
  return platform?.minimal !== undefined && (reason === 'too-large' || reason === 'flash-too-small');
}

/**
 * Whether an ESP8266 device on the Arduino route gets the image as gzip (protocol.md §6.4): the platform asks for it,
 * the image can be compressed, and the device can install it — `on`: every ESP8266 device of the platform, `auto`:
 * a device whose running image we know was built with core ≥ 2.7. `x-ESP8266-sdk-version` cannot tell: it names
 * the NONOS SDK, which cores 2.6 and 2.7 share.
 */
export function sendsGzip(platform: PlatformView, request: EspRequest, image: ReleasedImage): boolean {
  const mode = platform.esp8266Gzip;
  if (mode === undefined || mode === 'off') return false;
  if (!image.gzippable || request.family !== 'esp8266' || request.mode !== 'sketch') return false;
  if (mode === 'on') return true;
  // A digest that names no kept image means a build we do not know, whatever version it claims.
  const running =
    request.sketchMd5 !== undefined
      ? platform.imageByDigest.get(request.sketchMd5)
      : request.version !== undefined
        ? platform.imageByVersion.get(versionKey(request.version))
        : undefined;
  return running?.takesGzip === true;
}

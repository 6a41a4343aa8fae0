import { normalizeMac } from '../../lib/mac.js';
import { compareVersions } from '../../lib/version.js';
import type { RolloutTracking } from '../rollouts/device-outcome.js';
import { bucketAdmitted, rolloutBucket } from '../rollouts/rollout-bucket.js';
import { insideWindow } from '../rollouts/update-window.js';
import { secretMatches } from './device-credentials.js';
import type { PlatformView, ReleasedImage } from './catalogue-snapshot.js';
import { FILESYSTEM_MODES, type EspRequest } from './esp-request.js';

/** Machine-readable reasons, sent as `x-ota-reason` and logged with every check. */
export type DecisionReason =
  | 'newer-version'
  | 'different-version'
  | 'rollback'
  | 'version-query'
  | 'direct-download'
  | 'current'
  | 'device-newer'
  | 'nothing-released'
  | 'unknown-platform'
  | 'mac-required'
  | 'not-allowed'
  | 'wrong-chip-family'
  | 'too-large'
  | 'flash-too-small'
  | 'version-unknown'
  | 'auth-required'
  | 'bad-credentials'
  | 'pinned'
  | 'rollout-pending'
  | 'rollout-paused'
  | 'rollout-failed'
  | 'outside-window';

export type Decision =
  | { action: 'serve'; image: ReleasedImage; reason: DecisionReason; message: string }
  | { action: 'announce-version'; image: ReleasedImage; reason: 'version-query'; message: string }
  | { action: 'not-modified'; reason: DecisionReason; message: string; image: ReleasedImage | undefined }
  | {
      action: 'refuse';
      status: 400 | 401 | 403 | 404;
      reason: DecisionReason;
      message: string;
      image: ReleasedImage | undefined;
      /** Refused before the platform knew who was asking (unknown platform, missing or wrong credentials). */
      unverified?: true;
    };

/**
 * The update decision (README "What a device is told"): a pure function of what the device said, the platform's
 * released images and rollout, what the rollout knows of this device, and the time. 304 whenever there is nothing
 * to do, never 400/204 for "no update" (protocol.md §5).
 */
export function decide(
  request: EspRequest,
  platform: PlatformView | undefined,
  tracking?: RolloutTracking,
  now = 0,
): Decision {
  const refused = admission(request, platform);
  if (refused) return refused;
  platform = platform!; // admission refuses an unknown platform
  const filesystemMode = FILESYSTEM_MODES.has(request.mode);
  const target = filesystemMode
    ? released(platform.filesystem, platform, 'filesystem')
    : appTarget(request, platform, tracking);
  if (target.kind === 'answer') return target.decision;
  const { image } = target;
  if (request.mode === 'version') {
    return {
      action: 'announce-version',
      image,
      reason: 'version-query',
      message: `released version is ${image.version}`,
    };
  }
  if (!filesystemMode && request.family && image.family && request.family !== image.family) {
    return refuse(
      403,
      'wrong-chip-family',
      `the released image is for ${image.family}, but this device is an ${request.family}`,
      image,
    );
  }

  const offer: Offer =
    request.client === 'direct'
      ? { action: 'offer', reason: 'direct-download', message: `released version ${image.version}` }
      : whyOffer(request, image, platform, filesystemMode, target.chosen);
  if (offer.action !== 'offer')
    return target.quiet ? quietAnswer(offer.decision, target.quiet, request, platform) : offer.decision;

  const refusal = sizeRefusal(request, image, platform, filesystemMode);
  if (refusal) return refusal;
  if (!insideWindow(platform.window, now)) {
    return notModified(
      'outside-window',
      `updates for "${platform.name}" are served only inside its update window`,
      image,
    );
  }
  return {
    action: 'serve',
    image,
    reason: target.chosen ? 'pinned' : offer.reason,
    message: offer.message,
  };
}

/** A refusal: what `admission` answers a device it does not admit. */
export type Refusal = Extract<Decision, { action: 'refuse' }>;

/**
 * Whether the platform answers this device at all, before anything about images: the platform exists (404), the
 * device's credentials where the platform asks for them (401 missing, 403 wrong), and the allowlist (403). Checks
 * and outcome reports (`POST /ota/<platform>/report`) are admitted by this one function, so a device that may not
 * check cannot report either, and is told so in the same words. Undefined: admitted.
 */
export function admission(request: EspRequest, platform: PlatformView | undefined): Refusal | undefined {
  if (!platform) {
    return unverified(refuse(404, 'unknown-platform', `there is no platform named "${request.platform}"`));
  }
  const authorization = authorizeDevice(request, platform);
  if (authorization) return unverified(authorization);
  if (platform.accessMode === 'allowlist') {
    if (!request.mac)
      return refuse(403, 'mac-required', 'this platform only serves listed devices, and the request names no MAC');
    if (!platform.allowlist.has(request.mac))
      return refuse(403, 'not-allowed', `device ${request.mac} is not on the allowlist of "${platform.name}"`);
  }
  return undefined;
}

/** The image this device should run, or an answer when there is none to offer. */
type Target =
  | {
      kind: 'image';
      image: ReleasedImage;
      /** A person chose this image for the device (pinned): it is offered even when older. */
      chosen: boolean;
      /** Why "nothing to do" is the answer, when a rollout holds the device back. */
      quiet?: 'rollout-pending' | 'rollout-paused';
    }
  | { kind: 'answer'; decision: Decision };

function released(
  image: ReleasedImage | undefined,
  platform: PlatformView,
  slot: string,
  quiet?: 'rollout-pending' | 'rollout-paused',
): Target {
  if (!image) {
    return {
      kind: 'answer',
      decision: notModified(
        quiet ?? 'nothing-released',
        `no ${slot === 'filesystem' ? 'filesystem' : 'application'} image is released for "${platform.name}"`,
        undefined,
      ),
    };
  }
  return { kind: 'image', image, chosen: false, ...(quiet ? { quiet } : {}) };
}

/**
 * The app image for this device: its pin; else the rollout's image when the rollout admits it (canary, or its
 * bucket within the stage) and it has not failed; else the release. A paused rollout admits nobody new.
 */
function appTarget(request: EspRequest, platform: PlatformView, tracking: RolloutTracking | undefined): Target {
  const mac = request.mac;
  const pinned = mac ? platform.pins.get(mac) : undefined;
  if (pinned) return { kind: 'image', image: pinned, chosen: true };
  const rollout = platform.rollout;
  if (!rollout || (mac && platform.excluded.has(mac))) return released(platform.app, platform, 'app');
  // On the rollout's image already: kept there at any stage, paused or not. Otherwise a release a person pinned
  // would offer it the old image as a rollback while the rollout merely waits (only "roll back" does that).
  if (runsImage(request, rollout.target)) return { kind: 'image', image: rollout.target, chosen: false };
  const admitted =
    mac !== undefined && (rollout.canary.has(mac) || bucketAdmitted(rolloutBucket(rollout.id, mac), rollout.percent));
  if (!admitted) return released(platform.app, platform, 'app', 'rollout-pending');
  if (rollout.state === 'paused') return released(platform.app, platform, 'app', 'rollout-paused');
  if (tracking?.rolloutId === rollout.id && tracking.state === 'failed') {
    return {
      kind: 'answer',
      decision: notModified(
        'rollout-failed',
        `this device did not install ${rollout.target.version} (${tracking.failure ?? 'failed'}); a person can retry it`,
        rollout.target,
      ),
    };
  }
  return { kind: 'image', image: rollout.target, chosen: false };
}

/**
 * A device the rollout holds back is told so: its "nothing to do" (or "nothing released yet") answer names the
 * rollout, unless it already runs the rollout's image.
 */
function quietAnswer(
  decision: Decision,
  quiet: 'rollout-pending' | 'rollout-paused',
  request: EspRequest,
  platform: PlatformView,
): Decision {
  if (decision.action !== 'not-modified') return decision;
  const target = platform.rollout!.target;
  if (runsImage(request, target)) return decision;
  const message =
    quiet === 'rollout-paused'
      ? `the rollout of ${target.version} is paused`
      : `${target.version} is being rolled out and has not reached this device yet`;
  return { ...decision, reason: quiet, message };
}

/** The device runs this image: its digest says so, or the version it reports. */
function runsImage(request: EspRequest, image: ReleasedImage): boolean {
  const digest = request.sketchSha256 ?? request.sketchMd5;
  return (
    (digest !== undefined && image.runningDigests.has(digest)) ||
    (request.version !== undefined && compareVersions(request.version, image.version) === 0)
  );
}

/** Refusals that hold whatever the version: the image does not fit the device's space, partition or flash. */
function sizeRefusal(
  request: EspRequest,
  image: ReleasedImage,
  platform: PlatformView,
  filesystemMode: boolean,
): Decision | undefined {
  if (!filesystemMode && request.freeSpace !== undefined && image.size > request.freeSpace) {
    return refuse(
      403,
      'too-large',
      `the image (${image.size} bytes) is larger than the device's free space (${request.freeSpace} bytes)`,
      image,
    );
  }
  if (filesystemMode && platform.fsPartitionSize !== undefined && image.size > platform.fsPartitionSize) {
    return refuse(
      403,
      'too-large',
      `the filesystem image (${image.size} bytes) is larger than the partition (${platform.fsPartitionSize} bytes)`,
      image,
    );
  }
  if (
    !filesystemMode &&
    image.flashSizeBytes &&
    request.chipSize !== undefined &&
    image.flashSizeBytes > request.chipSize
  ) {
    return refuse(
      403,
      'flash-too-small',
      `the image is built for ${image.flashSizeBytes} bytes of flash, but the device has ${request.chipSize}`,
      image,
    );
  }
  return undefined;
}

type Offer = { action: 'offer'; reason: DecisionReason; message: string } | { action: 'skip'; decision: Decision };

function whyOffer(
  request: EspRequest,
  image: ReleasedImage,
  platform: PlatformView,
  filesystemMode: boolean,
  chosen: boolean,
): Offer {
  // The running image's digest is the strongest evidence, and works for devices that send no version.
  const digest = filesystemMode ? undefined : (request.sketchSha256 ?? request.sketchMd5);
  const runsRelease =
    !filesystemMode &&
    ((request.sketchMd5 !== undefined && image.runningDigests.has(request.sketchMd5)) ||
      (request.sketchSha256 !== undefined && image.runningDigests.has(request.sketchSha256)));
  if (runsRelease) return skip(notModified('current', `the device runs the released image (${image.version})`, image));

  const running = request.version ?? (digest ? platform.imageByDigest.get(digest)?.version : undefined);
  if (running === undefined) {
    if (digest)
      return {
        action: 'offer',
        reason: 'different-version',
        message: `the device runs an image this server does not know; ${image.version} is released`,
      };
    return skip(
      refuse(
        400,
        'version-unknown',
        'the request says neither which version the device runs (ver= or x-…-version) nor its sketch MD5',
        image,
      ),
    );
  }
  const order = compareVersions(running, image.version);
  if (order === 0) return skip(notModified('current', `the device runs ${running}, the released version`, image));
  if (order === -1) return { action: 'offer', reason: 'newer-version', message: `${running} → ${image.version}` };
  if (order === 1) {
    const pinned = filesystemMode ? false : chosen || platform.appPinned;
    if (pinned)
      return { action: 'offer', reason: 'rollback', message: `${running} → ${image.version} (released on purpose)` };
    return skip(
      notModified('device-newer', `the device runs ${running}, newer than the released ${image.version}`, image),
    );
  }
  return {
    action: 'offer',
    reason: 'different-version',
    message: `${running} → ${image.version} (versions not comparable)`,
  };
}

function skip(decision: Decision): Offer {
  return { action: 'skip', decision };
}

/** Checks the device's credentials where the platform asks for them: missing → 401, wrong → 403. */
function authorizeDevice(request: EspRequest, platform: PlatformView): Refusal | undefined {
  const { mode, user, secretHash, deviceSecrets } = platform.deviceAuth;
  if (mode === 'off') return undefined;
  const own = request.mac ? deviceSecrets.get(request.mac) : undefined;
  const { basic, deviceBasic, tokens } = request.credentials;
  if (mode === 'basic') {
    if (!basic) return refuse(401, 'auth-required', `platform "${platform.name}" needs HTTP Basic credentials`);
    const platformOk = basic.user === user && secretMatches(basic.password, secretHash);
    const deviceOk =
      own !== undefined &&
      deviceBasic !== undefined &&
      normalizeMac(deviceBasic.mac) === request.mac &&
      secretMatches(deviceBasic.password, own);
    return platformOk || deviceOk ? undefined : refuse(403, 'bad-credentials', 'wrong user name or password');
  }
  if (tokens.length === 0) return refuse(401, 'auth-required', `platform "${platform.name}" needs a device token`);
  const ok = tokens.some(
    (token) => secretMatches(token, secretHash) || (own !== undefined && secretMatches(token, own)),
  );
  return ok ? undefined : refuse(403, 'bad-credentials', 'wrong device token');
}

/**
 * Whether the request may speak for the device it names in the inventory (its platform, version and facts): only
 * once it reached an existing platform and passed that platform's authentication, if it has any. Anyone can send
 * another device's MAC; refusals before that point are logged as events, never written over the device's row.
 */
export function speaksForDevice(decision: Decision): boolean {
  return !(decision.action === 'refuse' && decision.unverified);
}

function unverified(refusal: Refusal): Refusal {
  return { ...refusal, unverified: true };
}

function refuse(
  status: 400 | 401 | 403 | 404,
  reason: DecisionReason,
  message: string,
  image?: ReleasedImage,
): Refusal {
  return { action: 'refuse', status, reason, message, image };
}

function notModified(reason: DecisionReason, message: string, image: ReleasedImage | undefined): Decision {
  return { action: 'not-modified', reason, message, image };
}

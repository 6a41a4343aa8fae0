import type { PlatformRow, ImageRow } from '../../db/tables.js';
import type { ImageAnalysis } from '../../firmware-image/index.js';
import type { Identity } from '../../firmware-image/identify.js';
import { DomainError } from '../../lib/domain-error.js';
import { isOrderable } from '../../lib/version.js';
import type { Stores } from '../catalogue.js';
import type { StartRollout, UploadInput } from './firmware-service.js';
import { uncertainty, type ReleaseVerdict } from './release-certainty.js';
import { describeKeyChange, keyChange } from '../signing/key-change.js';

/** What an upload did to the release, and whether a rollout is to be started once the upload is committed. */
export type UploadVerdict = ReleaseVerdict & { released: boolean; rollout?: boolean };

/**
 * What the platform's release policy does with a new image (README "Release policy"): the uploader's explicit
 * release wins; otherwise only a certain upload moves anything, and then only under `auto` (released now, unless a
 * person pinned the release) or `rollout` (started after the transaction, see startRolloutIfDue).
 */
export async function releaseOnUpload(
  stores: Stores,
  platform: PlatformRow,
  image: ImageRow,
  identity: Identity,
  analysis: ImageAnalysis,
  input: UploadInput,
  now: number,
  canStartRollout: boolean,
): Promise<UploadVerdict> {
  const isApp = image.kind === 'app';
  const releasedId = isApp ? platform.released_app_id : platform.released_fs_id;
  const release = async (pinned: boolean) =>
    stores.platforms.update(platform.id, {
      ...(isApp ? { released_app_id: image.id, app_release_pinned: pinned ? 1 : 0 } : { released_fs_id: image.id }),
      ...(isApp && !platform.chip ? { chip: image.chip } : {}),
      updated_at: now,
    });
  const deployed = isApp && releasedId !== null ? await stores.images.findById(releasedId) : undefined;
  const change = keyChange(deployed?.signature, image.signature);
  if (change && input.confirmKeyChange !== true) {
    return {
      released: false,
      code: 'key-change',
      reason: `${describeKeyChange(change)}: kept, not released; release it with confirmKeyChange once the boards trust the new key`,
    };
  }
  if (input.release === true) {
    await release(true);
    return { released: true, code: 'released-by-uploader', reason: `released by ${input.actor} with the upload` };
  }
  if (input.wasReleased === true) {
    await release(false);
    return { released: true, code: 'released-by-import', reason: 'it was the released image on the source server' };
  }
  const released = releasedId !== null ? await stores.images.findById(releasedId) : undefined;
  const doubt = uncertainty({
    identity,
    analysis,
    version: image.version,
    platformName: platform.name,
    releasedVersion: released?.version,
  });
  if (doubt) return { released: false, ...doubt };
  if (isApp && platform.app_release_pinned && released) {
    return {
      released: false,
      code: 'release-pinned',
      reason: `a person chose the released version ${released.version}; uploads do not move it: release this one by hand`,
    };
  }
  const rollout = isApp ? await stores.rollouts.active(platform.id) : undefined;
  if (rollout) {
    return {
      released: false,
      code: 'rollout-running',
      reason: `a rollout of ${rollout.target_version} is ${rollout.state} on "${platform.name}": finish or abort it, then release or roll out this one`,
    };
  }
  if (platform.release_policy === 'manual') {
    return {
      released: false,
      code: 'policy-manual',
      reason: `platform "${platform.name}" releases by hand (release policy "manual")`,
    };
  }
  if (platform.release_policy === 'rollout' && isApp) {
    return canStartRollout
      ? { released: false, rollout: true, code: 'rollout-started', reason: 'a rollout was started' }
      : {
          released: false,
          code: 'rollout-unavailable',
          reason: `platform "${platform.name}" starts a rollout for certain uploads, but this server cannot run rollouts yet: kept as with "manual", release it by hand`,
        };
  }
  await release(false);
  return { released: true, code: 'certain', reason: certainSentence(identity, released?.version) };
}

/** Outside the upload's transaction: the rollout engine writes in transactions of its own. */
export async function startRolloutIfDue(
  start: StartRollout | undefined,
  platform: PlatformRow,
  image: ImageRow,
  verdict: UploadVerdict,
  actor: string,
): Promise<ReleaseVerdict> {
  if (!verdict.rollout || !start) return { code: verdict.code, reason: verdict.reason };
  try {
    await start(platform.name, image.id, actor);
    return {
      code: 'rollout-started',
      reason: `a rollout of version ${image.version} was started from the rollout template of "${platform.name}"`,
    };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return {
      code: 'rollout-failed',
      reason: `the image is kept, but its rollout could not be started: ${error.message}`,
    };
  }
}

/** The refusal of an explicit version that is neither a version nor a label the uploader opted into. */
export function checkExplicitVersion(input: UploadInput): void {
  const given = input.version?.trim();
  if (!given || input.label === true || isOrderable(given)) return;
  throw new DomainError(
    'invalid-version',
    `"${given}" is not a version: a version is numbers such as 1.2.3, v1.2.3-rc.1 or 2024.10.2, optionally with a git describe suffix (v1.2.3-4-gabc1234) (README "How versions are compared"); to store an opaque label, send label=true (esp-ota upload --label)`,
  );
}

function certainSentence(identity: Identity, releasedVersion: string | undefined): string {
  const from = identity.version.evidence ?? 'the image';
  return releasedVersion === undefined
    ? `the version is stated by the build (${from}) and nothing was released yet`
    : `the version is stated by the build (${from}) and is newer than the released ${releasedVersion}`;
}

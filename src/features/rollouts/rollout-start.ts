import type { ImageRow, PlatformRow, RolloutRow } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';
import { normalizeMac } from '../../lib/mac.js';
import { isRowId } from '../../lib/row-id.js';
import { compareVersions, versionKey } from '../../lib/version.js';
import type { Stores } from '../catalogue.js';
import { changeEvent } from '../platforms/platform-service.js';
import { planRollout, type RolloutPlan, type RolloutPlanInput, type RolloutPolicy } from './rollout-policy.js';
import { describeKeyChange, keyChange, requireKeyChangeConfirmed } from '../signing/key-change.js';

/** What a person (REST, CLI) or the release policy asks for when starting a rollout. */
export interface StartRolloutInput {
  /** The target: a kept app image of the platform, by version (`v2.0.0` and `2.0.0` are one) or by id. */
  version?: string | undefined;
  imageId?: number | undefined;
  /** Percentages, increasing, the last 100; default: the platform's template, else 1, 10, 50, 100. */
  stages?: number[] | undefined;
  /** Devices (MACs in any common format) and device groups admitted before any percentage. */
  canary?: { macs?: string[] | undefined; groups?: string[] | undefined } | undefined;
  /** Thresholds that differ from the template's or the defaults (README "Rollouts"). */
  policy?: Partial<RolloutPolicy> | undefined;
  /** The target is signed by another key than the released image: the person knows (docs/security.md). */
  confirmKeyChange?: boolean | undefined;
}

/** The platform's rollout template (release policy `rollout`), read defensively: a broken one is no template. */
function templatePlan(platform: PlatformRow): RolloutPlan | undefined {
  if (!platform.rollout_template) return undefined;
  try {
    return planRollout(JSON.parse(platform.rollout_template) as RolloutPlanInput);
  } catch {
    return undefined;
  }
}

/** The app image the input names, or a 4xx that says why it cannot be rolled out. */
export async function rolloutTarget(
  stores: Stores,
  platform: PlatformRow,
  input: StartRolloutInput,
): Promise<ImageRow> {
  let image: ImageRow | undefined;
  if (input.imageId !== undefined) {
    image = isRowId(input.imageId) ? await stores.images.findById(input.imageId) : undefined;
    if (image?.platform_id !== platform.id)
      throw new DomainError('unknown-image', `platform "${platform.name}" has no image with id ${input.imageId}`);
  } else if (typeof input.version === 'string' && input.version.trim() !== '') {
    const key = versionKey(input.version.trim());
    image = await stores.images.findByVersion(platform.id, 'app', key);
    if (!image) {
      const fs = await stores.images.findByVersion(platform.id, 'filesystem', key);
      if (!fs)
        throw new DomainError(
          'unknown-image',
          `platform "${platform.name}" has no image version ${input.version.trim().slice(0, 64)}: upload it first`,
        );
      image = fs;
    }
  } else {
    throw new DomainError('bad-request', 'name the image to roll out: its version or its id');
  }
  if (image.kind !== 'app')
    throw new DomainError(
      'wrong-kind',
      `version ${image.version} is a filesystem image: rollouts move application images (release it instead)`,
    );
  return image;
}

/**
 * Starts a rollout inside the caller's transaction, with the platform already locked (the release policy calls this
 * from an upload's transaction). Refuses the released image, an older one, and a second active rollout (409).
 */
export async function startRollout(
  stores: Stores,
  platform: PlatformRow,
  image: ImageRow,
  input: Omit<StartRolloutInput, 'version' | 'imageId'>,
  actor: string,
  now: number,
): Promise<RolloutRow> {
  const previous =
    platform.released_app_id === null ? undefined : await stores.images.findById(platform.released_app_id);
  if (previous?.id === image.id)
    throw new DomainError('image-released', `${image.version} is already released on "${platform.name}"`);
  if (previous && compareVersions(image.version, previous.version) === -1)
    throw new DomainError(
      'bad-request',
      `${image.version} is older than the released ${previous.version}: a rollout moves devices forward ` +
        '(release the older image to roll back)',
    );
  const change = keyChange(previous?.signature, image.signature);
  requireKeyChangeConfirmed(change, input.confirmKeyChange);
  const active = await stores.rollouts.active(platform.id);
  if (active)
    throw new DomainError(
      'rollout-active',
      `"${platform.name}" is already rolling out ${active.target_version} (${active.state}): finish or abort it first`,
    );

  const macs = (input.canary?.macs ?? []).map((text) => {
    const mac = typeof text === 'string' ? normalizeMac(text) : undefined;
    if (!mac) throw new DomainError('invalid-mac', `canary device "${String(text).slice(0, 40)}" is not a MAC address`);
    return mac;
  });
  const groupNames = input.canary?.groups ?? [];
  const known = await stores.canaryGroups.existing(platform.id, groupNames.slice(0, 1000));
  for (const name of groupNames) {
    if (!known.has(String(name).trim().toLowerCase()))
      throw new DomainError('bad-request', `"${platform.name}" has no device group "${String(name).slice(0, 64)}"`);
  }
  const plan = planRollout(
    {
      stages: input.stages,
      canary: input.canary ? { macs, groups: [...known.values()] } : undefined,
      policy: input.policy,
    },
    templatePlan(platform),
  );
  const rollout = await stores.rollouts.insert({
    platform_id: platform.id,
    image_id: image.id,
    previous_image_id: previous?.id ?? null,
    target_version: image.version,
    previous_version: previous?.version ?? null,
    state: 'running',
    stages: JSON.stringify(plan.stages),
    canary: JSON.stringify(plan.canary),
    policy: JSON.stringify(plan.policy),
    stage_index: 0,
    stage_started_at: now,
    pause_reason: null,
    created_by: actor,
    created_at: now,
    updated_at: now,
    ended_at: null,
    key_change: change ? JSON.stringify(change) : null,
  });
  const canary = plan.canary.macs.length + plan.canary.groups.length;
  await stores.events.append([
    {
      ...changeEvent(
        now,
        'rollout-started',
        platform.name,
        actor,
        `stages ${plan.stages.join(', ')} %${canary ? `, after a canary of ${canary} devices and groups` : ''}${change ? `; key change confirmed: ${describeKeyChange(change)}` : ''}`,
      ),
      from_version: previous?.version ?? null,
      to_version: image.version,
    },
  ]);
  return rollout;
}

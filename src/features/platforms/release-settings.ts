import type { PlatformRow, ReleasePolicy } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';
import { planRollout, type RolloutPlanInput } from '../rollouts/rollout-policy.js';
import { formatUpdateWindow, parseUpdateWindow } from '../rollouts/update-window.js';

/** What a person may set about how a platform's uploads reach devices (README "Release policy"). */
export interface ReleaseSettings {
  releasePolicy?: ReleasePolicy | undefined;
  /** The stages, canary and thresholds a rollout of this platform starts with; null removes the template. */
  rolloutTemplate?: RolloutPlanInput | null | undefined;
  /** The hours devices may be served an update; null: any time. */
  updateWindow?: { from: string; to: string; timeZone: string } | null | undefined;
}

export interface UpdateWindowJson {
  from: string;
  to: string;
  timeZone: string;
}

const POLICIES: readonly ReleasePolicy[] = ['auto', 'manual', 'rollout'];

/** The columns for the settings that were given, validated; a clear 400 names the first bad field. */
export function releaseSettingColumns(
  settings: ReleaseSettings,
): Partial<Pick<PlatformRow, 'release_policy' | 'rollout_template' | 'update_window'>> {
  const columns: Partial<Pick<PlatformRow, 'release_policy' | 'rollout_template' | 'update_window'>> = {};
  if (settings.releasePolicy !== undefined) {
    if (!POLICIES.includes(settings.releasePolicy))
      throw new DomainError('bad-request', 'releasePolicy is one of auto, manual, rollout');
    columns.release_policy = settings.releasePolicy;
  }
  if (settings.rolloutTemplate !== undefined) {
    columns.rollout_template =
      settings.rolloutTemplate === null ? null : JSON.stringify(validRolloutTemplate(settings.rolloutTemplate));
  }
  if (settings.updateWindow !== undefined) {
    columns.update_window =
      settings.updateWindow === null
        ? null
        : JSON.stringify(formatUpdateWindow(parseUpdateWindow(settings.updateWindow)));
  }
  return columns;
}

/**
 * A template is kept as the person wrote it (so later default changes still apply to what they left out), after
 * checking it plans: whole percentages 1–100, strictly increasing, ending at 100, and known policy numbers in range.
 */
export function validRolloutTemplate(template: RolloutPlanInput): RolloutPlanInput {
  const stages = template.stages;
  if (stages !== undefined) {
    if (!Array.isArray(stages) || stages.length === 0)
      throw new DomainError('bad-request', 'stages is a list of 1 to 20 percentages, e.g. 1,10,50,100');
    stages.forEach((percent, i) => {
      if (!Number.isInteger(percent) || percent < 1 || percent > 100)
        throw new DomainError(
          'bad-request',
          `stage ${i + 1} is ${String(percent)}: a stage is a whole percentage from 1 to 100`,
        );
    });
  }
  planRollout(template);
  const kept: RolloutPlanInput = {};
  if (stages !== undefined) kept.stages = [...stages];
  if (template.canary !== undefined) kept.canary = template.canary;
  if (template.policy !== undefined) kept.policy = template.policy;
  return kept;
}

export function rolloutTemplateJson(text: string | null): RolloutPlanInput | null {
  return text === null ? null : (JSON.parse(text) as RolloutPlanInput);
}

export function updateWindowJson(text: string | null): UpdateWindowJson | null {
  return text === null ? null : (JSON.parse(text) as UpdateWindowJson);
}

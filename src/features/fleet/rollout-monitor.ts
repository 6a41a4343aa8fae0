import type { NewEvent } from '../../db/tables.js';
import { sweepTracking } from '../rollouts/device-outcome.js';
import { evaluateRollout, type HealthVerdict } from '../rollouts/rollout-health.js';
import type { PlatformView, RolloutView } from '../update-check/catalogue-snapshot.js';
import type { ActivityWriter } from './activity-writer.js';
import { forEachChunked } from './chunked.js';
import type { DeviceRegistry } from './device-registry.js';
import { noRolloutDevices, rolloutDeviceState, type RolloutDeviceCounts } from './rollout-membership.js';

/** Applies a verdict to a rollout if it is still running at that stage; false when another instance was first. */
export type ApplyVerdict = (
  rolloutId: number,
  stageIndex: number,
  verdict: Exclude<HealthVerdict, { action: 'none' }>,
) => Promise<boolean>;

interface Logger {
  info(object: unknown, message: string): void;
  error(object: unknown, message: string): void;
}

/**
 * Watches running rollouts for the stock clients, which never report: every few seconds it finds devices that went
 * silent after a download (or failed by time), counts the devices of each rollout by state, and lets the rollout
 * judge itself (`evaluateRollout`): pause when too many failed, advance or complete when healthy and asked to.
 */
export class RolloutMonitor {
  /** The last full count of each rollout's devices, by rollout id (refreshed each pass). */
  private readonly counts = new Map<
    number,
    { stageIndex: number; devices: RolloutDeviceCounts; recent: { failed: number; silent: number } }
  >();
  private running: Promise<void> | undefined;

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly writer: ActivityWriter,
    private readonly apply: ApplyVerdict,
    private readonly log: Logger,
  ) {}

  /** The devices of a rollout by state, as of the last pass (undefined before the first). */
  devices(rolloutId: number): RolloutDeviceCounts | undefined {
    return this.counts.get(rolloutId)?.devices;
  }

  /** One pass over the platforms with a rollout; passes never overlap. */
  pass(platforms: ReadonlyMap<string, PlatformView>, now: number): Promise<void> {
    this.running ??= this.run(platforms, now)
      .catch((err: unknown) => this.log.error({ err }, 'rollout monitor failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(platforms: ReadonlyMap<string, PlatformView>, now: number): Promise<void> {
    const active = [...platforms.values()].filter((p) => p.rollout);
    if (active.length === 0) return;
    for (const platform of active) this.sweep(platform, platform.rollout!, now);
    await this.count(active);
    for (const platform of active) {
      const rollout = platform.rollout!;
      if (rollout.state !== 'running') continue;
      const counted = this.counts.get(rollout.id);
      const devices = counted?.devices ?? noRolloutDevices();
      const verdict = evaluateRollout(
        {
          state: 'running',
          stageIndex: rollout.stageIndex,
          stageCount: rollout.stageCount,
          stageStartedAt: rollout.stageStartedAt,
        },
        {
          admitted: devices.admitted + devices.offered + devices.updated + devices.failed + devices.silent,
          ...this.registry.summary.rollout(rollout.id),
          // Failures from before the stage started (or was resumed) were seen by the person who advanced or resumed
          // it: only new ones can pause it again, or a resumed rollout would pause itself at once.
          failed: counted?.recent.failed ?? 0,
          silent: counted?.recent.silent ?? 0,
        },
        rollout.policy,
        now,
      );
      if (verdict.action === 'none') continue;
      if (await this.apply(rollout.id, rollout.stageIndex, verdict))
        this.log.info({ platform: platform.name, rollout: rollout.id, verdict }, 'rollout judged itself');
    }
  }

  /** Devices served and not heard from since (silent), or that reported the old image and went quiet (failed). */
  private sweep(platform: PlatformView, rollout: RolloutView, now: number): void {
    for (const entry of [...this.registry.awaitingOutcome(rollout.id)]) {
      const tracking = entry.rollout;
      if (!tracking) continue;
      const { tracking: next, transition } = sweepTracking(tracking, now, rollout.policy);
      if (!transition || !next) continue;
      this.registry.change(entry, (e) => (e.rollout = next));
      this.writer.changed(entry, undefined);
      const event: NewEvent = {
        at: now,
        type: `rollout-${transition.to}`,
        platform_name: platform.name,
        mac: entry.mac,
        from_version: entry.runningVersion,
        to_version: rollout.target.version,
        decision: null,
        reason: transition.failure ?? transition.to,
        detail:
          transition.to === 'silent'
            ? `not heard from since it downloaded ${rollout.target.version}`
            : `still reported another image, then went quiet after downloading ${rollout.target.version}`,
        status: null,
      };
      this.writer.event(event);
    }
  }

  /** Counts every rollout's devices by state in one pass over the fleet, a few thousand per event-loop turn. */
  private async count(active: PlatformView[]): Promise<void> {
    const byPlatform = new Map(
      active.map((p) => [p.id, { platform: p, devices: noRolloutDevices(), recent: { failed: 0, silent: 0 } }]),
    );
    await forEachChunked(this.registry.entries(), (entry) => {
      const tally = entry.platformId === null ? undefined : byPlatform.get(entry.platformId);
      if (!tally) return;
      const rollout = tally.platform.rollout!;
      const state = rolloutDeviceState(entry, tally.platform, rollout);
      tally.devices[state]++;
      if (
        (state === 'failed' || state === 'silent') &&
        entry.rollout?.rolloutId === rollout.id &&
        (entry.rollout.outcomeAt ?? 0) >= rollout.stageStartedAt
      )
        tally.recent[state]++;
    });
    this.counts.clear();
    for (const { platform, devices, recent } of byPlatform.values())
      this.counts.set(platform.rollout!.id, { stageIndex: platform.rollout!.stageIndex, devices, recent });
  }
}

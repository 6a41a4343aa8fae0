import type { NewEvent } from '../../db/tables.js';
import type { OutcomeTransition, RolloutTracking, Tracked } from '../rollouts/device-outcome.js';
import { recordAttempt } from '../rollouts/device-outcome.js';
import type { PlatformView } from '../update-check/catalogue-snapshot.js';
import type { Decision } from '../update-check/decide.js';
import type { EspRequest } from '../update-check/esp-request.js';
import type { ActivityWriter, DeviceFacts } from './activity-writer.js';
import { DeviceEntry, factsHash } from './device-entry.js';
import type { DeviceRegistry } from './device-registry.js';
import { deviceStatus } from './device-status.js';
import { ReportActivity, type DeviceReport, type ReportEffect } from './report-activity.js';
import { runningImage, type RunningImage } from './running-image.js';

/** A device check once its answer is known: what the device said, what was decided, and what was sent. */
export interface AnsweredCheck {
  at: number;
  request: EspRequest;
  ip: string | undefined;
  platform: PlatformView | undefined;
  decision: Decision;
  /** The answer as recorded (a served image answered 304 for its ETag is `not-modified`/`current`). */
  action: string;
  reason: string;
  detail: string;
  /** The HTTP status sent. */
  status: number;
  /** A download starts (an image body from its first byte), or a check. */
  kind: 'download' | 'check';
  /** False for refusals before the platform knew who was asking: they never touch the inventory. */
  speaksForDevice: boolean;
  /** What the running rollout learned from this check before deciding (see `observeCheck`). */
  observed: Tracked | undefined;
}

export interface DeviceActivityOptions {
  /** A device refused again within this time adds to the count of its last refusal event instead of a new event. */
  refusalEventIntervalMs: number;
}

interface Logger {
  info(object: unknown, message: string): void;
  debug(object: unknown, message: string): void;
}

/** Refusals of requests that name no known device, rate-limited by who sent them; bounded, oldest forgotten. */
const ANONYMOUS_REFUSALS_KEPT = 10_000;

/**
 * Records device checks as changes, not heartbeats (docs/architecture.md "The fleet in memory"): a check that
 * changes nothing about its device (same platform, same running image, same answer) costs an update of its entry in
 * memory and nothing else; a change updates the device's row and writes an event for the history: first seen, the
 * running image changed (from → to), the answer changed, an image served (one per download), a refusal (the first,
 * then at most one per `refusalEventIntervalMs` with the number folded in), a rollout outcome. The log follows the
 * same rule: one info line per event, device checks that change nothing at debug level.
 */
export class DeviceActivity {
  private readonly anonymousRefusals = new Map<string, { at: number; folded: number }>();
  private readonly reports: ReportActivity;

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly writer: ActivityWriter,
    private readonly log: Logger,
    private readonly options: DeviceActivityOptions,
  ) {
    // Reports fold like refusals: one interval bounds what any device can add to the event log.
    this.reports = new ReportActivity(registry, writer, log, { eventIntervalMs: options.refusalEventIntervalMs });
  }

  /** An explicit outcome from a client that can report (see `ReportActivity`); it outranks what checks inferred. */
  report(report: DeviceReport): ReportEffect {
    return this.reports.record(report);
  }

  record(check: AnsweredCheck): void {
    const { request, platform } = check;
    const mac = request.mac;
    if (!mac || !platform || !check.speaksForDevice) {
      this.recordAnonymous(check);
      return;
    }
    const facts = factsOf(check);
    const hash = factsHash(facts);
    const running = runningImage(request, platform);
    let entry = this.registry.get(mac);
    const isNew = !entry;
    if (!entry) {
      entry = this.firstSeen(check, mac, platform, running, hash, facts);
    } else {
      this.update(check, entry, platform, running, hash, facts);
    }
    entry.pendingChecks++;
    this.writer.sighted(entry);
    if (check.kind === 'download') this.downloaded(check, entry, facts);
    else if (check.action === 'refuse') this.refused(check, entry, isNew);
    this.followRollout(check, entry, facts);
  }

  private firstSeen(
    check: AnsweredCheck,
    mac: string,
    platform: PlatformView,
    running: RunningImage | undefined,
    hash: number,
    facts: DeviceFacts,
  ): DeviceEntry {
    const at = check.at;
    const entry = new DeviceEntry(
      mac,
      platform.id,
      platform.name,
      running?.version ?? null,
      running?.imageId ?? null,
      check.action,
      check.reason,
      'unknown',
      hash,
      at,
      at,
      null,
      0,
      null,
    );
    entry.status = deviceStatus(entry, platform);
    this.registry.insert(entry);
    this.writer.changed(entry, facts, at);
    this.emit(check, 'first-seen', { from: null, to: entry.runningVersion });
    return entry;
  }

  private update(
    check: AnsweredCheck,
    entry: DeviceEntry,
    platform: PlatformView,
    running: RunningImage | undefined,
    hash: number,
    facts: DeviceFacts,
  ): void {
    this.registry.heard(entry, check.at);
    const version = running ? running.version : entry.runningVersion;
    const imageId = running ? running.imageId : entry.runningImageId;
    const movedPlatform = entry.platformId !== platform.id;
    const imageChanged = version !== entry.runningVersion || imageId !== entry.runningImageId;
    const answerChanged = check.action !== entry.lastDecision || check.reason !== entry.lastReason;
    const status = deviceStatus(
      { mac: entry.mac, lastDecision: check.action, runningImageId: imageId, runningVersion: version },
      platform,
    );
    const quiet = hash !== entry.factsHash || status !== entry.status;
    if (!movedPlatform && !imageChanged && !answerChanged && !quiet) return;
    const previousVersion = entry.runningVersion;
    const previousPlatform = entry.platformName;
    this.registry.change(entry, (e) => {
      e.platformId = platform.id;
      e.platformName = platform.name;
      e.runningVersion = version;
      e.runningImageId = imageId;
      e.lastDecision = check.action;
      e.lastReason = check.reason;
      e.status = status;
      e.factsHash = hash;
      if (movedPlatform || imageChanged || answerChanged) e.changedAt = check.at;
    });
    this.writer.changed(entry, facts);
    if (movedPlatform) {
      this.emit(check, 'platform-changed', { from: previousVersion, to: version, note: `was on ${previousPlatform}` });
    } else if (imageChanged) {
      this.emit(check, 'image-changed', { from: previousVersion, to: version });
    } else if (answerChanged && check.kind !== 'download' && check.action !== 'refuse') {
      this.emit(check, 'check', { from: version, to: check.decision.image?.version ?? null });
    }
  }

  /** One event per download; downloads of the same image one after another are counted ("still asks after 3"). */
  private downloaded(check: AnsweredCheck, entry: DeviceEntry, facts: DeviceFacts): void {
    const imageId = check.decision.image?.id ?? null;
    entry.pendingDownloads++;
    if (entry.downloadedImageId === imageId) entry.downloadsOfRelease++;
    else {
      entry.downloadedImageId = imageId;
      entry.downloadsOfRelease = 1;
    }
    this.writer.changed(entry, facts);
    this.emit(check, 'download', { from: entry.runningVersion, to: check.decision.image?.version ?? null });
  }

  /**
   * The first refusal is an event (for a new device, its first-seen event says it); the same device refused again
   * within the interval is folded into the next refusal event, which carries the count.
   */
  private refused(check: AnsweredCheck, entry: DeviceEntry, isNew: boolean): void {
    if (check.at - entry.refusalEventAt < this.options.refusalEventIntervalMs && entry.refusalEventAt !== 0) {
      entry.refusalsFolded++;
      return;
    }
    if (!isNew)
      this.emit(check, 'refused', { from: entry.runningVersion, to: null, occurrences: 1 + entry.refusalsFolded });
    entry.refusalEventAt = check.at;
    entry.refusalsFolded = 0;
  }

  /** What the running rollout learned: an outcome (updated, failed), and an attempt when it served its image. */
  private followRollout(check: AnsweredCheck, entry: DeviceEntry, facts: DeviceFacts): void {
    const rollout = check.platform?.rollout;
    let tracking: RolloutTracking | null = entry.rollout;
    let transition: OutcomeTransition | undefined;
    if (check.observed && rollout) {
      tracking = check.observed.tracking ?? tracking;
      transition = check.observed.transition;
    }
    if (rollout && check.kind === 'download' && check.decision.image?.id === rollout.target.id) {
      tracking = recordAttempt(tracking ?? undefined, rollout.id, check.at).tracking!;
    }
    if (tracking === entry.rollout) return;
    this.registry.change(entry, (e) => {
      e.rollout = tracking;
    });
    this.writer.changed(entry, facts);
    if (transition && tracking) {
      const detail =
        transition.to === 'updated'
          ? `installed ${rollout!.target.version} in ${Math.round((transition.tookMs ?? 0) / 1000)} s`
          : transition.to === 'failed'
            ? `did not install ${rollout!.target.version}: ${describeFailure(transition.failure, tracking)}`
            : `${transition.from} → ${transition.to}`;
      this.emit(check, `rollout-${transition.to}`, {
        from: entry.runningVersion,
        to: rollout!.target.version,
        note: detail,
      });
    }
  }

  /** Requests that speak for no known device: no inventory; downloads and rate-limited refusals are still events. */
  private recordAnonymous(check: AnsweredCheck): void {
    if (check.kind === 'download') {
      this.emit(check, 'download', { from: check.request.version ?? null, to: check.decision.image?.version ?? null });
      return;
    }
    if (check.action !== 'refuse') {
      this.log.debug(logLine(check), 'device check');
      return;
    }
    const key = `${check.request.mac ?? ''}|${check.ip ?? ''}|${check.request.platform}|${check.reason}`;
    const last = this.anonymousRefusals.get(key);
    if (last && check.at - last.at < this.options.refusalEventIntervalMs) {
      last.folded++;
      return;
    }
    this.anonymousRefusals.delete(key);
    this.anonymousRefusals.set(key, { at: check.at, folded: 0 });
    if (this.anonymousRefusals.size > ANONYMOUS_REFUSALS_KEPT) {
      this.anonymousRefusals.delete(this.anonymousRefusals.keys().next().value!);
    }
    this.emit(check, 'refused', {
      from: check.request.version ?? null,
      to: null,
      occurrences: 1 + (last?.folded ?? 0),
    });
  }

  private emit(
    check: AnsweredCheck,
    type: string,
    what: { from: string | null; to: string | null; occurrences?: number; note?: string },
  ): void {
    const event: NewEvent = {
      at: check.at,
      type,
      platform_name: check.platform?.name ?? check.request.platform,
      mac: check.request.mac ?? null,
      from_version: what.from,
      to_version: what.to,
      decision: check.action,
      reason: check.reason,
      detail: what.note ?? check.detail,
      status: check.status,
      occurrences: what.occurrences ?? 1,
    };
    this.writer.event(event);
    this.log.info({ ...logLine(check), event: type }, 'device check');
  }
}

function factsOf(check: AnsweredCheck): DeviceFacts {
  const { request } = check;
  return {
    family: request.family ?? null,
    ip: check.ip ?? null,
    sdkVersion: request.sdkVersion ?? null,
    freeSpace: request.freeSpace ?? null,
    chipSize: request.chipSize ?? null,
    sketchMd5: request.sketchMd5 ?? null,
  };
}

function logLine(check: AnsweredCheck) {
  return {
    platform: check.request.platform,
    mac: check.request.mac,
    from: check.request.version,
    to: check.decision.image?.version ?? null,
    decision: check.action,
    reason: check.reason,
    status: check.status,
  };
}

function describeFailure(failure: string | undefined, tracking: RolloutTracking): string {
  switch (failure) {
    case 'attempts':
      return `downloaded it ${tracking.attempts} times and still runs the old image`;
    case 'checks':
      return `still reports the old image after ${tracking.checksSinceServed} checks`;
    case 'time':
      return 'still reports the old image long after downloading it';
    case 'reverted':
      return 'went back to another image after updating';
    default:
      return failure ?? 'failed';
  }
}

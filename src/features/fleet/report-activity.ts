import type { NewEvent } from '../../db/tables.js';
import { versionKey } from '../../lib/version.js';
import { recordReport, type RolloutTracking } from '../rollouts/device-outcome.js';
import type { PlatformView, RolloutView } from '../update-check/catalogue-snapshot.js';
import type { ActivityWriter, DeviceFacts } from './activity-writer.js';
import { DeviceEntry, factsHash } from './device-entry.js';
import type { DeviceRegistry } from './device-registry.js';
import { deviceStatus } from './device-status.js';
import { admits } from './rollout-membership.js';

export type ReportOutcome = 'success' | 'failure';

/**
 * An explicit outcome a device reported (`POST /ota/<platform>/report`), once it was admitted like a check. Its text
 * fields were validated where the request entered (features/update-check/report-body.ts).
 */
export interface DeviceReport {
  at: number;
  platform: PlatformView;
  mac: string;
  ip: string | undefined;
  family: string | undefined;
  outcome: ReportOutcome;
  /** The version the outcome is about: the one installed (success) or the one that failed to install. */
  version: string | undefined;
  reason: string | undefined;
}

/**
 * What became of a report, sent back as `x-ota-reason` (a closed set): the platform's rollout counts it, or it is
 * recorded only, because no rollout runs, the device is not in it (pinned, excluded, not served and not admitted),
 * or it names another version than the rollout's.
 */
export type ReportEffect = 'counted' | 'no-rollout' | 'not-in-rollout' | 'other-version';
export const REPORT_EFFECTS: readonly ReportEffect[] = ['counted', 'no-rollout', 'not-in-rollout', 'other-version'];

/**
 * Different reports one device may write as events within one fold interval: enough for a failure, a retry and its
 * success; a client that reports in a loop, even alternating, adds no more.
 */
export const REPORT_EVENTS_PER_INTERVAL = 5;

/**
 * Devices whose report folding is remembered, the most recent reporters kept: most devices never report, so this is
 * kept beside the registry rather than in every entry. A device forgotten here writes its next report as an event.
 */
const REPORT_FOLDS_KEPT = 100_000;

/** A device's report events in the current fold interval. */
interface ReportFold {
  /** When the interval began. */
  windowAt: number;
  /** Events written in it. */
  events: number;
  /** Hash of the last report written (`reportKey`). */
  key: number;
  /** Reports folded since the last event. */
  folded: number;
}

interface Logger {
  info(object: unknown, message: string): void;
  debug(object: unknown, message: string): void;
}

/**
 * Records outcome reports: the device's rollout tracking follows the latest report (an explicit outcome outranks
 * what checks inferred), its last seen is updated, and an event `reported` is written. Reports fold like refusals
 * (per device, within `eventIntervalMs`): a repeat of the last report written is folded into the next event's count,
 * and at most `REPORT_EVENTS_PER_INTERVAL` events are written per interval, so a client that reports in a loop
 * cannot flood the event log. The device's row always carries the latest state.
 *
 * A device the server never heard from is created (admission has passed, as for a first check): ESP-IDF clients
 * that download from the stable URL without `?mac=`, or boards flashed by cable, report on their first boot.
 */
export class ReportActivity {
  private readonly folds = new Map<string, ReportFold>();

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly writer: ActivityWriter,
    private readonly log: Logger,
    private readonly options: { eventIntervalMs: number },
  ) {}

  record(report: DeviceReport): ReportEffect {
    let entry = this.registry.get(report.mac);
    if (!entry) {
      entry = this.firstSeen(report);
    } else {
      this.registry.heard(entry, report.at);
      // The row carries the last seen time; changes of one device are written once per flush however many come.
      this.writer.changed(entry, undefined);
    }
    const { effect, tracking } = this.followRollout(report, entry);
    if (tracking !== entry.rollout) {
      this.registry.change(entry, (e) => (e.rollout = tracking));
      this.writer.changed(entry, undefined);
    }
    this.emitFolded(report, entry, effect);
    return effect;
  }

  private firstSeen(report: DeviceReport): DeviceEntry {
    const { at, platform, outcome, version } = report;
    // A success names what the device now runs; a failure only what it did not manage to install.
    const runningVersion = outcome === 'success' && version !== undefined ? version : null;
    const runningImageId =
      runningVersion === null ? null : (platform.imageByVersion.get(versionKey(runningVersion))?.id ?? null);
    const facts: DeviceFacts = {
      family: report.family ?? null,
      ip: report.ip ?? null,
      sdkVersion: null,
      freeSpace: null,
      chipSize: null,
      sketchMd5: null,
    };
    const entry = new DeviceEntry(
      report.mac,
      platform.id,
      platform.name,
      runningVersion,
      runningImageId,
      'report',
      outcome,
      'unknown',
      factsHash(facts),
      at,
      at,
      null,
      0,
      null,
    );
    entry.status = deviceStatus(entry, platform);
    this.registry.insert(entry);
    this.writer.changed(entry, facts, at);
    this.writer.event(
      this.event(report, entry, 'first-seen', {
        from: null,
        to: runningVersion,
        reason: outcome,
        detail: 'first heard from in an outcome report',
        occurrences: 1,
      }),
    );
    return entry;
  }

  /** Whether the platform's rollout counts this report, and the device's tracking after it. */
  private followRollout(
    report: DeviceReport,
    entry: DeviceEntry,
  ): { effect: ReportEffect; tracking: RolloutTracking | null } {
    const keep = (effect: ReportEffect) => ({ effect, tracking: entry.rollout });
    const { platform, mac, version } = report;
    const rollout = platform.rollout;
    if (!rollout) return keep('no-rollout');
    if (platform.pins.has(mac) || platform.excluded.has(mac)) return keep('not-in-rollout');
    const namesTarget = version !== undefined && sameVersion(version, rollout);
    if (version !== undefined && !namesTarget) return keep('other-version');
    const served = entry.rollout?.rolloutId === rollout.id;
    // A device the rollout never served counts when it is admitted and says it is about the rollout's image.
    if (!served && !(namesTarget && admits(rollout, mac))) return keep('not-in-rollout');
    const { tracking } = recordReport(
      served ? entry.rollout! : undefined,
      rollout.id,
      report.outcome,
      report.reason,
      report.at,
    );
    return { effect: 'counted', tracking: tracking ?? entry.rollout };
  }

  /**
   * The event, unless it is folded: a report that repeats the last one written within the interval, or any report
   * once the device has written `REPORT_EVENTS_PER_INTERVAL` in it. The next event written carries the number folded.
   */
  private emitFolded(report: DeviceReport, entry: DeviceEntry, effect: ReportEffect): void {
    const line = { platform: report.platform.name, mac: report.mac, outcome: report.outcome, effect };
    const key = reportKey(report);
    let fold = this.folds.get(report.mac);
    if (!fold || report.at - fold.windowAt >= this.options.eventIntervalMs) {
      fold = { windowAt: report.at, events: 0, key: 0, folded: fold?.folded ?? 0 };
    } else if (key === fold.key || fold.events >= REPORT_EVENTS_PER_INTERVAL) {
      fold.folded++;
      this.log.debug(line, 'device report folded');
      return;
    }
    const occurrences = 1 + fold.folded;
    // Re-inserted, so the map's order is that of the latest events and the oldest is forgotten first.
    this.folds.delete(report.mac);
    this.folds.set(report.mac, { ...fold, key, events: fold.events + 1, folded: 0 });
    if (this.folds.size > REPORT_FOLDS_KEPT) this.folds.delete(this.folds.keys().next().value!);
    this.writer.event(
      this.event(report, entry, 'reported', {
        from: entry.runningVersion,
        to: report.version ?? report.platform.rollout?.target.version ?? null,
        reason: report.reason ?? report.outcome,
        detail: describe(report, entry, effect),
        occurrences,
      }),
    );
    this.log.info({ ...line, event: 'reported' }, 'device report');
  }

  private event(
    report: DeviceReport,
    entry: DeviceEntry,
    type: string,
    what: { from: string | null; to: string | null; reason: string; detail: string; occurrences: number },
  ): NewEvent {
    return {
      at: report.at,
      type,
      platform_name: report.platform.name,
      mac: entry.mac,
      from_version: what.from,
      to_version: what.to,
      decision: report.outcome,
      reason: what.reason,
      detail: what.detail,
      status: 204,
      occurrences: what.occurrences,
    };
  }
}

/** What makes two reports the same, as one number (FNV-1a). */
function reportKey(report: DeviceReport): number {
  const text = `${report.outcome}\n${report.version ?? ''}\n${report.reason ?? ''}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Never 0, which stands for "nothing written yet".
  return h | 0 || 1;
}

function sameVersion(version: string, rollout: RolloutView): boolean {
  return versionKey(version) === versionKey(rollout.target.version);
}

/** The event's sentence: what was reported, and what the rollout made of it. */
function describe(report: DeviceReport, entry: DeviceEntry, effect: ReportEffect): string {
  const what = `reported ${report.outcome}${report.version ? ` installing ${report.version}` : ''}`;
  const why = report.reason ? `: ${report.reason}` : '';
  const target = report.platform.rollout?.target.version;
  switch (effect) {
    case 'counted':
      return `${what}${why}; the rollout of ${target} counts it ${entry.rollout?.state ?? 'unknown'}`;
    case 'no-rollout':
      return `${what}${why}; no rollout is running, so it is recorded only`;
    case 'not-in-rollout':
      return `${what}${why}; the device is not in the rollout of ${target}, so it is recorded only`;
    case 'other-version':
      return `${what}${why}; the rollout is of ${target}, so it is recorded only`;
  }
}

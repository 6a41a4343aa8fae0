import type { Catalogue } from '../catalogue.js';
import type { DomainEvent } from '../events/domain-events.js';
import type { PlatformView } from '../update-check/catalogue-snapshot.js';
import type { CatalogueView } from '../update-check/catalogue-view.js';
import { ActivityWriter, type ActivityFailure } from './activity-writer.js';
import { forEachChunked } from './chunked.js';
import { DeviceActivity } from './device-activity.js';
import { DeviceRegistry } from './device-registry.js';
import { deviceStatus } from './device-status.js';
import { loadRegistry } from './registry-loader.js';
import { RolloutMonitor, type ApplyVerdict } from './rollout-monitor.js';
import { noRolloutDevices, type RolloutDeviceCounts } from './rollout-membership.js';

export interface FleetOptions {
  changeFlushMs: number;
  sightingFlushMs: number;
  refusalEventIntervalMs: number;
  /** How often running rollouts are swept, counted and judged. */
  monitorIntervalMs: number;
  /** How often devices per version are counted into `version_samples`. */
  versionSampleMs: number;
}

interface Logger {
  info(object: unknown, message: string): void;
  debug(object: unknown, message: string): void;
  error(object: unknown, message: string): void;
}

/**
 * The fleet in memory (docs/architecture.md): the device registry, how checks are recorded into it and written,
 * device statuses kept right as releases and rollouts change, and the rollout monitor. The composition root builds
 * one per process.
 */
export class Fleet {
  readonly registry = new DeviceRegistry();
  readonly writer: ActivityWriter;
  readonly activity: DeviceActivity;
  readonly monitor: RolloutMonitor;
  private loaded: Promise<void> | undefined;
  private isLoaded = false;
  /** What each platform's statuses were computed against, so a catalogue reload recomputes only what changed. */
  private readonly targets = new Map<number, string>();
  private statusPass: Promise<void> = Promise.resolve();
  private monitorTimer: NodeJS.Timeout | undefined;
  /**
   * Tells others (MQTT, webhooks) that a device changed or left; set by the composition root. Checks that change
   * nothing never call it: only the activity writer's `changed` does, and retention's forgetting.
   */
  publish: (event: DomainEvent) => void = () => undefined;
  private sampleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly view: CatalogueView,
    private readonly options: FleetOptions,
    private readonly log: Logger,
    applyVerdict: ApplyVerdict,
    failed: (outcome: ActivityFailure, rows: number) => void,
    private readonly now: () => number,
  ) {
    this.writer = new ActivityWriter(
      catalogue,
      { changeFlushMs: options.changeFlushMs, sightingFlushMs: options.sightingFlushMs },
      log,
      failed,
    );
    this.activity = new DeviceActivity(this.registry, this.writer, log, {
      refusalEventIntervalMs: options.refusalEventIntervalMs,
    });
    this.writer.onDeviceChanged = (mac) => this.publish({ kind: 'device-changed', mac });
    this.monitor = new RolloutMonitor(this.registry, this.writer, applyVerdict, log);
    view.onLoaded((platforms) => this.catalogueChanged(platforms));
  }

  /** Loads the registry (device checks wait for it) and starts the rollout monitor. */
  start(): Promise<void> {
    this.loaded ??= (async () => {
      const started = performance.now();
      const devices = await loadRegistry(this.registry, (after, limit) =>
        this.catalogue.stores.deviceWrites.page(after, limit),
      );
      this.isLoaded = true;
      this.log.info({ devices, ms: Math.round(performance.now() - started) }, 'device registry loaded');
      this.monitorTimer = setInterval(() => void this.monitorPass(), this.options.monitorIntervalMs);
      this.monitorTimer.unref();
      this.sampleTimer = setInterval(
        () => void this.sampleVersions().catch((err: unknown) => this.log.error({ err }, 'version sample failed')),
        this.options.versionSampleMs,
      );
      this.sampleTimer.unref();
    })();
    return this.loaded;
  }

  /** Resolves once device checks can be answered (the registry is loaded). */
  ready(): Promise<void> | undefined {
    return this.isLoaded ? undefined : (this.loaded ?? this.start());
  }

  /**
   * Where a rollout's devices stand: the monitor's last count (every `monitorIntervalMs`), or before its first pass
   * the outcomes the registry keeps live.
   */
  rolloutDevices(rolloutId: number): RolloutDeviceCounts {
    return this.monitor.devices(rolloutId) ?? { ...noRolloutDevices(), ...this.registry.summary.rollout(rolloutId) };
  }

  /** Resolves when the status pass a catalogue change started has finished. */
  settled(): Promise<void> {
    return this.statusPass;
  }

  /** Never rejects: it runs from a timer, and a rejection there would end the process (the database may be away). */
  async monitorPass(): Promise<void> {
    if (!this.isLoaded) return;
    let platforms: ReadonlyMap<string, PlatformView>;
    try {
      platforms = await this.view.all();
    } catch (err) {
      this.log.error({ err }, 'rollout monitor could not read the catalogue; it tries again at its next pass');
      return;
    }
    await this.monitor.pass(platforms, this.now());
  }

  /** Writes the devices per version of every platform, as the registry counts them now. */
  async sampleVersions(): Promise<number> {
    if (!this.isLoaded) return 0;
    return this.catalogue.stores.versionSamples.record(this.registry.summary, this.now(), this.options.versionSampleMs);
  }

  /** Forgets devices that retention removed from the database (not heard from since `cutoff`). */
  async forgetNotSeenSince(cutoff: number): Promise<number> {
    const gone: string[] = [];
    await forEachChunked(this.registry.entries(), (entry) => {
      if (entry.lastSeenAt < cutoff && entry.pendingChecks === 0) gone.push(entry.mac);
    });
    for (const mac of gone) {
      this.registry.remove(mac);
      this.publish({ kind: 'device-forgotten', mac });
    }
    return gone.length;
  }

  /** Writes everything queued and stops the timers. */
  async close(): Promise<void> {
    clearInterval(this.monitorTimer);
    clearInterval(this.sampleTimer);
    await this.statusPass;
    await this.writer.close();
  }

  /**
   * A release, rollout or pin changed what some platforms' devices should run: their statuses are recomputed (in
   * chunks, the fleet may be large) and the ones that changed are written.
   */
  private catalogueChanged(platforms: ReadonlyMap<string, PlatformView>): void {
    const changed = new Map<number, PlatformView>();
    for (const platform of platforms.values()) {
      const signature = targetSignature(platform);
      if (this.targets.get(platform.id) === signature) continue;
      this.targets.set(platform.id, signature);
      changed.set(platform.id, platform);
    }
    if (changed.size === 0 || !this.isLoaded) return;
    this.statusPass = this.statusPass.then(() =>
      forEachChunked(this.registry.entries(), (entry) => {
        const platform = entry.platformId === null ? undefined : changed.get(entry.platformId);
        if (!platform) return;
        const status = deviceStatus(entry, platform);
        if (status === entry.status) return;
        this.registry.change(entry, (e) => (e.status = status));
        this.writer.changed(entry, undefined);
      }),
    );
  }
}

/** What a platform's device statuses depend on: the image each device is moved to. */
function targetSignature(platform: PlatformView): string {
  const pins = [...platform.pins].map(([mac, image]) => `${mac}=${image.id}`).join(',');
  const excluded = platform.rollout ? [...platform.excluded].join(',') : '';
  const target = platform.rollout?.target ?? platform.app;
  return `${target?.id ?? ''}|${target?.version ?? ''}|${pins}|${excluded}`;
}

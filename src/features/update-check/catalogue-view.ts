import type { Catalogue } from '../catalogue.js';
import type { Clock } from '../../lib/clock.js';
import { loadActiveRollouts, platformWindow } from '../rollouts/rollout-view.js';
import {
  type KeptImage,
  type PlatformView,
  type ReleasedImage,
  runningDigests,
  toKeptImage,
  toReleasedImage,
} from './catalogue-snapshot.js';
import { NO_STEERING, steeringByPlatform } from './steering.js';

export interface CatalogueViewOptions {
  /** How old a snapshot may get before the next check reloads it (other instances may have written). */
  refreshMs: number;
}

/**
 * The hot path's read model: platforms, allowlists and released images in memory, reloaded when this process
 * writes (invalidate) or when the snapshot is older than `refreshMs`. Image bytes are kept by `ImageCache`.
 */
export class CatalogueView {
  private snapshot: { loadedAt: number; platforms: Map<string, PlatformView> } | undefined;
  /** The reload in flight, and the generation it started in: only checks of that generation may join it. */
  private loading: { generation: number; platforms: Promise<Map<string, PlatformView>> } | undefined;
  private generation = 0;
  private readonly loadedListeners: ((platforms: ReadonlyMap<string, PlatformView>) => void)[] = [];

  constructor(
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly options: CatalogueViewOptions,
  ) {}

  invalidate(): void {
    this.generation++;
    this.snapshot = undefined;
  }

  /** Called with every snapshot the view adopts (after a write here, or a refresh that saw other instances' writes). */
  onLoaded(listener: (platforms: ReadonlyMap<string, PlatformView>) => void): void {
    this.loadedListeners.push(listener);
  }

  /** Every platform, by name key. */
  async all(): Promise<ReadonlyMap<string, PlatformView>> {
    return this.snapshot?.platforms ?? (await this.reload());
  }

  async platform(name: string): Promise<PlatformView | undefined> {
    const key = name.trim().toLowerCase();
    const snapshot = this.snapshot;
    if (snapshot) {
      // Past its age the snapshot still answers while a reload runs: only other instances' writes can be missing
      // from it, and those are allowed `refreshMs` of delay. This process's own writes invalidate it outright.
      if (this.clock.now() - snapshot.loadedAt >= this.options.refreshMs) void this.reload().catch(() => undefined);
      return snapshot.platforms.get(key);
    }
    return (await this.reload()).get(key);
  }

  /**
   * A check joins a reload in flight only when nothing was written since it started: a check that begins after a
   * write has completed must see that write, which a reload that began before it may not have read.
   */
  private reload(): Promise<Map<string, PlatformView>> {
    const generation = this.generation;
    if (this.loading?.generation === generation) return this.loading.platforms;
    const startedAt = this.clock.now();
    const loading = {
      generation,
      platforms: this.load()
        .then((platforms) => {
          // A write during the load may not be in it; keep it only if nothing was invalidated meanwhile.
          if (generation === this.generation) {
            this.snapshot = { loadedAt: startedAt, platforms };
            for (const listener of this.loadedListeners) listener(platforms);
          }
          return platforms;
        })
        .finally(() => {
          if (this.loading === loading) this.loading = undefined;
        }),
    };
    this.loading = loading;
    return loading.platforms;
  }

  private async load(): Promise<Map<string, PlatformView>> {
    const { stores } = this.catalogue;
    const [platforms, allowlist, images, rollouts, steered, deviceKeys] = await Promise.all([
      stores.platforms.list(),
      stores.allowlist.listAll(),
      stores.images.listAll(),
      loadActiveRollouts(stores),
      stores.groups.steered(),
      stores.deviceKeys.listAll(),
    ]);
    const steering = steeringByPlatform(steered, images);
    const views = new Map<string, PlatformView>();
    for (const p of platforms) {
      const own = images.filter((i) => i.platform_id === p.id);
      const imageByDigest = new Map<string, KeptImage>();
      const imageByVersion = new Map<string, KeptImage>();
      for (const image of own) {
        if (image.kind !== 'app') continue;
        const kept = toKeptImage(image);
        for (const digest of runningDigests(image)) imageByDigest.set(digest, kept);
        imageByVersion.set(image.version_key, kept);
      }
      const released = (id: number | null): ReleasedImage | undefined => {
        const row = id === null ? undefined : own.find((i) => i.id === id);
        return row ? toReleasedImage(row) : undefined;
      };
      const minimalOf =
        p.minimal_platform_id === null ? undefined : platforms.find((m) => m.id === p.minimal_platform_id);
      const minimalRow =
        minimalOf?.released_app_id == null ? undefined : images.find((i) => i.id === minimalOf.released_app_id);
      views.set(p.name_key, {
        id: p.id,
        name: p.name,
        accessMode: p.access_mode,
        allowlist: new Set(allowlist.filter((a) => a.platform_id === p.id).map((a) => a.mac)),
        app: released(p.released_app_id),
        filesystem: released(p.released_fs_id),
        appPinned: p.app_release_pinned === 1,
        fsPartitionSize: p.fs_partition_size ?? undefined,
        imageByDigest,
        imageByVersion,
        rollout: rollouts.view(p.id, own),
        ...(steering.get(p.id) ?? NO_STEERING),
        window: platformWindow(p),
        deviceKeys: new Map(deviceKeys.filter((k) => k.platform_id === p.id).map((k) => [k.key, k.mac])),
        esp8266Gzip: p.esp8266_gzip,
        minimal: minimalRow ? toReleasedImage(minimalRow) : undefined,
        deviceAuth: {
          mode: p.device_auth,
          user: p.device_user,
          secretHash: p.device_secret_hash,
          deviceSecrets: new Map(
            allowlist.filter((a) => a.platform_id === p.id && a.secret_hash).map((a) => [a.mac, a.secret_hash!]),
          ),
        },
      });
    }
    return views;
  }
}

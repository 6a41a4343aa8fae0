import type { Readable } from 'node:stream';
import type { Clock } from '../../lib/clock.js';
import type { Fleet } from '../fleet/fleet.js';
import { runningImage, runs } from '../fleet/running-image.js';
import type { Metrics } from '../metrics/metrics.js';
import { observeCheck, type Tracked } from '../rollouts/device-outcome.js';
import type { PlatformView } from './catalogue-snapshot.js';
import type { CatalogueView } from './catalogue-view.js';
import type { CachedImage, ImageCache } from './image-cache.js';
import type { CopiedImage, GzipCopies, GzipCopy } from './gzip-copies.js';
import { decide, speaksForDevice, type Decision } from './decide.js';
import type { EspRequest } from './esp-request.js';
import { recordedAs, type ImageDelivery } from './image-delivery.js';

/** One device request on its way: what it said, where it came from, and what was decided. */
export interface DeviceCheck {
  request: EspRequest;
  ip: string | undefined;
  platform: PlatformView | undefined;
  decision: Decision;
  /** What the platform's running rollout learned from this check (an outcome of an earlier download). */
  observed: Tracked | undefined;
  at: number;
}

/**
 * A device check: look the platform and the device up in memory and decide; once the answer is known, record what
 * was actually sent (the fleet registry turns it into changes and heartbeats).
 */
export class UpdateCheckService {
  constructor(
    private readonly view: CatalogueView,
    private readonly images: ImageCache,
    private readonly fleet: Fleet,
    private readonly clock: Clock,
    private readonly metrics: Pick<Metrics, 'deviceCheck' | 'download'>,
    private readonly gzip?: GzipCopies,
  ) {}

  /** The platform as the device check sees it (a manifest client's device key is looked up in it). */
  platformView(name: string): Promise<PlatformView | undefined> {
    return this.view.platform(name);
  }

  /**
   * `view`: how this client sees the platform (the Tasmota `-minimal` names see their paired image as the release);
   * the decision is the same.
   */
  async check(
    request: EspRequest,
    ip: string | undefined,
    view?: (platform: PlatformView) => PlatformView,
  ): Promise<DeviceCheck> {
    // Until the registry is loaded a check cannot know its device's previous state: it waits (once, at start).
    const loading = this.fleet.ready();
    if (loading) await loading;
    const found = await this.view.platform(request.platform);
    const platform = found && view ? view(found) : found;
    const at = this.clock.now();
    const observed = this.observe(request, platform, at);
    return { request, ip, platform, decision: decide(request, platform, observed?.tracking, at), observed, at };
  }

  /**
   * Before deciding: what this check says about an earlier download of the running rollout's image. A device that
   * now reports it updated; one that keeps reporting the old image may have failed (and is then not served again).
   */
  private observe(request: EspRequest, platform: PlatformView | undefined, at: number): Tracked | undefined {
    const rollout = platform?.rollout;
    if (!rollout || !request.mac) return undefined;
    const tracking = this.fleet.registry.get(request.mac)?.rollout ?? undefined;
    if (!tracking) return undefined;
    const running = runningImage(request, platform);
    if (!running) return undefined;
    return observeCheck(tracking, rollout.id, runs(running, rollout.target), at, rollout.policy);
  }

  /**
   * Records the answer a check was sent: its status and, for an image, how it was delivered. An offered image may
   * still be answered 304 (the device sent its ETag), 416, or headers only (HEAD): those are checks. Only a body
   * from the first byte is a download, and the later ranges of a download in pieces are not recorded again.
   */
  answered(check: DeviceCheck, status: number, delivery?: ImageDelivery): void {
    const { request, platform, decision } = check;
    const kind = delivery ? recordedAs(delivery) : 'check';
    if (kind === 'continuation') return;
    const etagMatched = delivery?.status === 304;
    const action = etagMatched ? 'not-modified' : decision.action;
    const reason = etagMatched ? 'current' : decision.reason;
    this.metrics.deviceCheck(action, reason);
    this.fleet.activity.record({
      at: check.at,
      request,
      ip: check.ip,
      platform,
      decision,
      action,
      reason,
      detail: etagMatched ? 'the device already has the released image (its ETag matched)' : decision.message,
      status,
      kind,
      speaksForDevice: speaksForDevice(decision),
      observed: check.observed,
    });
  }

  /** The whole image from memory, or undefined when it is too large to hold: then stream it (`imageStream`). */
  imageBytes(image: CachedImage): Promise<Buffer> | undefined {
    return this.images.read(image);
  }

  imageStream(image: CachedImage, start: number, end: number): Promise<Readable> {
    return this.images.stream(image, start, end);
  }

  /** The image's gzip copy, made once (docs/clients.md "ESP8266 gzip"); undefined when this server makes none. */
  gzipCopy(image: CopiedImage): Promise<GzipCopy> | undefined {
    return this.gzip?.copyOf(image);
  }

  /** Called with the bytes actually sent (a range may be less than the image). */
  served(bytes: number): void {
    this.metrics.download(bytes);
  }
}

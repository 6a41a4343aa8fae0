import type { Readable } from 'node:stream';
import type { Clock } from '../../lib/clock.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ActivityRecorder } from './activity-recorder.js';
import type { PlatformView } from './catalogue-snapshot.js';
import type { CatalogueView } from './catalogue-view.js';
import type { CachedImage, ImageCache } from './image-cache.js';
import { decide, speaksForDevice, type Decision } from './decide.js';
import type { EspRequest } from './esp-request.js';
import { recordedAs, type ImageDelivery } from './image-delivery.js';

interface Logger {
  info(object: unknown, message: string): void;
}

/** One device request on its way: what it said, where it came from, and what was decided. */
export interface DeviceCheck {
  request: EspRequest;
  ip: string | undefined;
  platform: PlatformView | undefined;
  decision: Decision;
}

/**
 * A device check: look the platform up in memory and decide; once the answer is known, queue the device row and
 * the event for what was actually sent.
 */
export class UpdateCheckService {
  constructor(
    private readonly view: CatalogueView,
    private readonly images: ImageCache,
    private readonly recorder: ActivityRecorder,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: Pick<Metrics, 'deviceCheck' | 'download'>,
  ) {}

  async check(request: EspRequest, ip: string | undefined): Promise<DeviceCheck> {
    const platform = await this.view.platform(request.platform);
    return { request, ip, platform, decision: decide(request, platform) };
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
    const offered = decision.image?.version ?? null;
    this.metrics.deviceCheck(action, reason);
    this.log.info(
      {
        platform: request.platform,
        mac: request.mac,
        from: request.version,
        to: offered,
        decision: action,
        reason,
        status,
      },
      'device check',
    );
    this.recorder.record({
      at: this.clock.now(),
      type: kind,
      platform_name: platform?.name ?? request.platform,
      mac: request.mac ?? null,
      from_version: request.version ?? null,
      to_version: offered,
      decision: action,
      reason,
      detail: etagMatched ? 'the device already has the released image (its ETag matched)' : decision.message,
      status,
      speaks_for_device: speaksForDevice(decision),
      downloaded_image_id: kind === 'download' ? (decision.image?.id ?? null) : null,
      platform_id: platform?.id ?? null,
      family: request.family ?? null,
      ip: check.ip ?? null,
      sdk_version: request.sdkVersion ?? null,
      free_space: request.freeSpace ?? null,
      chip_size: request.chipSize ?? null,
      sketch_md5: request.sketchMd5 ?? null,
    });
  }

  /** The whole image from memory, or undefined when it is too large to hold: then stream it (`imageStream`). */
  imageBytes(image: CachedImage): Promise<Buffer> | undefined {
    return this.images.read(image);
  }

  imageStream(image: CachedImage, start: number, end: number): Promise<Readable> {
    return this.images.stream(image, start, end);
  }

  /** Called with the bytes actually sent (a range may be less than the image). */
  served(bytes: number): void {
    this.metrics.download(bytes);
  }
}

import type { Readable } from 'node:stream';
import type { Clock } from '../../lib/clock.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ActivityRecorder } from './activity-recorder.js';
import type { CatalogueView } from './catalogue-view.js';
import type { CachedImage, ImageCache } from './image-cache.js';
import { decide, type Decision } from './decide.js';
import type { EspRequest } from './esp-request.js';

interface Logger {
  info(object: unknown, message: string): void;
}

/** A device check: look the platform up in memory, decide, and queue the device row and event. */
export class UpdateCheckService {
  constructor(
    private readonly view: CatalogueView,
    private readonly images: ImageCache,
    private readonly recorder: ActivityRecorder,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: Pick<Metrics, 'deviceCheck' | 'download'>,
  ) {}

  async check(request: EspRequest, ip: string | undefined): Promise<Decision> {
    const platform = await this.view.platform(request.platform);
    const decision = decide(request, platform);
    this.metrics.deviceCheck(decision.action, decision.reason);
    const now = this.clock.now();
    const served = decision.action === 'serve';
    const offered = decision.image?.version ?? null;
    this.log.info(
      {
        platform: request.platform,
        mac: request.mac,
        from: request.version,
        to: offered,
        decision: decision.action,
        reason: decision.reason,
      },
      'device check',
    );
    this.recorder.record({
      at: now,
      type: served ? 'download' : 'check',
      platform_name: platform?.name ?? request.platform,
      mac: request.mac ?? null,
      from_version: request.version ?? null,
      to_version: offered,
      decision: decision.action,
      reason: decision.reason,
      detail: decision.message,
      platform_id: platform?.id ?? null,
      family: request.family ?? null,
      ip: ip ?? null,
      sdk_version: request.sdkVersion ?? null,
      free_space: request.freeSpace ?? null,
      chip_size: request.chipSize ?? null,
      sketch_md5: request.sketchMd5 ?? null,
    });
    return decision;
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

import type { ImageView, PlatformView } from '../views.js';

/** A platform's card on the dashboard. */
export interface PlatformSummary {
  platform: PlatformView;
  released: ImageView | undefined;
  lastUpload: ImageView | undefined;
  devices: number;
  current: number;
  offered: number;
  refused: number;
}

/** Devices per platform and last answer, as `DeviceStore.statusCounts` counts them. */
export interface StatusCount {
  platform_id: number | null;
  last_decision: string;
  last_reason: string;
  devices: number;
}

export function summarizePlatforms(
  platforms: PlatformView[],
  images: ImageView[],
  counts: StatusCount[],
): PlatformSummary[] {
  return platforms.map((platform) => {
    const own = images.filter((i) => i.platform_id === platform.id);
    const mine = counts.filter((c) => c.platform_id === platform.id);
    const sum = (pick: (c: StatusCount) => boolean) => mine.filter(pick).reduce((n, c) => n + c.devices, 0);
    return {
      platform,
      released: own.find((i) => i.id === platform.released_app_id),
      lastUpload: own.sort((a, b) => b.uploaded_at - a.uploaded_at)[0],
      devices: sum(() => true),
      current: sum((c) => c.last_reason === 'current'),
      offered: sum((c) => c.last_decision === 'serve'),
      refused: sum((c) => c.last_decision === 'refuse'),
    };
  });
}

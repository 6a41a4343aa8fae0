import type { ImageView, PlatformView } from '../views.js';
import type { PlatformCounts } from './fleet-summary.js';

/** A platform's card on the dashboard. */
export interface PlatformSummary {
  platform: PlatformView;
  released: ImageView | undefined;
  lastUpload: ImageView | undefined;
  devices: number;
  /** By stored status (features/fleet/device-status.ts). */
  current: number;
  outdated: number;
  refused: number;
  /** Running version → devices (null: not known). */
  byVersion: ReadonlyMap<string | null, number>;
}

/** The cards from the counts the fleet registry keeps in memory (fleet-summary.ts): no query groups the devices. */
export function summarizePlatforms(
  platforms: PlatformView[],
  images: ImageView[],
  counts: (platformId: number) => PlatformCounts,
): PlatformSummary[] {
  return platforms.map((platform) => {
    const own = images.filter((i) => i.platform_id === platform.id);
    const mine = counts(platform.id);
    return {
      platform,
      released: own.find((i) => i.id === platform.released_app_id),
      lastUpload: own.sort((a, b) => b.uploaded_at - a.uploaded_at)[0],
      devices: mine.total,
      current: mine.byStatus.current,
      outdated: mine.byStatus.outdated,
      refused: mine.byStatus.refused,
      byVersion: mine.byVersion,
    };
  });
}

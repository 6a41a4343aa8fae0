import type { ImageRow } from '../../db/tables.js';
import type { SteeredMember } from '../groups/group-store.js';
import { toReleasedImage, type ReleasedImage } from './catalogue-snapshot.js';

/** What people decided for single devices of a platform: pins and exclusions from rollouts. */
export interface PlatformSteering {
  pins: ReadonlyMap<string, ReleasedImage>;
  excluded: ReadonlySet<string>;
}

export const NO_STEERING: PlatformSteering = { pins: new Map(), excluded: new Set() };

/**
 * Pins and exclusions by platform id, from the members of pinned or excluded groups (oldest group first). A device
 * in several pinned groups takes the oldest group's pin, except that its own pin (the `@mac` group) always wins: the
 * person who pinned that one board meant it, whatever groups it is in.
 */
export function steeringByPlatform(
  members: readonly SteeredMember[],
  images: readonly ImageRow[],
): Map<number, PlatformSteering> {
  const released = new Map<number, ReleasedImage>();
  const imageById = new Map(images.map((i) => [i.id, i]));
  const releasedImage = (id: number): ReleasedImage | undefined => {
    let image = released.get(id);
    const row = image ? undefined : imageById.get(id);
    if (row && row.kind === 'app') released.set(id, (image = toReleasedImage(row)));
    return image;
  };
  const byPlatform = new Map<number, { pins: Map<string, ReleasedImage>; excluded: Set<string> }>();
  for (const member of members) {
    let steering = byPlatform.get(member.platform_id);
    if (!steering) byPlatform.set(member.platform_id, (steering = { pins: new Map(), excluded: new Set() }));
    if (member.excluded === 1) steering.excluded.add(member.mac);
    const image = member.pinned_image_id === null ? undefined : releasedImage(member.pinned_image_id);
    if (!image) continue;
    if (member.own || !steering.pins.has(member.mac)) steering.pins.set(member.mac, image);
  }
  return byPlatform;
}

/**
 * Which devices a staged rollout admits. Each device gets a bucket in [0, 10,000) from a stable hash of the rollout
 * and its MAC; a stage of p % admits the buckets below p × 100. The same device and rollout always land in the same
 * bucket (a device's answer never flips between checks or across restarts and instances), and raising the percentage
 * only adds buckets, so a device admitted at 10 % stays admitted at 50 %. The rollout id takes part, so each rollout
 * draws a different first 1 %: the same unlucky boards are not always the canaries.
 */
export const BUCKETS = 10_000;

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser so that similar MACs spread over the whole range. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The device's bucket in this rollout; `mac` is the normalised 12-hex-digit form. */
export function rolloutBucket(rolloutId: number, mac: string): number {
  return hash32(`${rolloutId}:${mac}`) % BUCKETS;
}

/** True when a stage of `percent` % admits this bucket (0 % admits none, 100 % every one). */
export function bucketAdmitted(bucket: number, percent: number): boolean {
  return bucket < Math.round(percent * (BUCKETS / 100));
}

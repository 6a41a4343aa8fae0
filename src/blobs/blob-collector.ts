import type { BlobStore } from './blob-store.js';

interface Logger {
  info(object: unknown, message: string): void;
}

/**
 * Deletes firmware files nothing points at: images deleted or replaced, and uploads that crashed between writing the
 * file and committing its row. A file must also be older than the grace period, so an upload that has just
 * committed its file but not yet its row is never collected.
 */
export async function collectOrphanBlobs(
  blobs: BlobStore,
  referenced: () => Promise<Set<string>>,
  graceMs: number,
  now: number,
  log: Logger,
): Promise<number> {
  const stagingRemoved = await blobs.removeAbandonedStaging(Math.max(graceMs, 60_000));
  const committedBefore = now - graceMs;
  // The listing and the references only pick candidates, in one query each. An upload of the same bytes may land
  // after they were read, so the store decides again as it deletes (BlobStore.deleteIfUnreferenced).
  const stored = await blobs.list();
  const keep = await referenced();
  let removed = 0;
  for (const blob of stored) {
    if (keep.has(blob.key) || blob.committedAt >= committedBefore) continue;
    if (await blobs.deleteIfUnreferenced(blob.key, committedBefore)) removed++;
  }
  if (removed || stagingRemoved) log.info({ removed, stagingRemoved }, 'removed unreferenced firmware files');
  return removed;
}

import { reclaimFreePages, type Database } from '../../db/database.js';
import type { Catalogue } from '../catalogue.js';

export interface RetentionPolicy {
  eventRetentionDays: number;
  eventRetentionCount: number;
  deviceRetentionDays: number;
}

export interface MaintenanceReport {
  eventsByAge: number;
  eventsByCount: number;
  devices: number;
  versionSamples: number;
}

const DAY = 86_400_000;

/**
 * Keeps the database bounded (a Pi's SD card must not fill with device events): deletes old events (and version
 * samples as old), the oldest events past the count limit, and devices gone for good; then, on SQLite, hands freed pages back and truncates the
 * write-ahead log. PostgreSQL's autovacuum does the latter by itself.
 */
export async function runMaintenance(
  db: Database,
  catalogue: Catalogue,
  policy: RetentionPolicy,
  now: number,
): Promise<MaintenanceReport> {
  const { events, devices, versionSamples } = catalogue.stores;
  const report = {
    eventsByAge: await events.pruneOlderThan(now - policy.eventRetentionDays * DAY),
    eventsByCount: await events.pruneBeyond(policy.eventRetentionCount),
    devices: await devices.pruneNotSeenSince(now - policy.deviceRetentionDays * DAY),
    versionSamples: await versionSamples.prune(now - policy.eventRetentionDays * DAY),
  };
  await reclaimFreePages(db);
  return report;
}

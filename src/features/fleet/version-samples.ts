import type { Database } from '../../db/database.js';
import type { FleetSummary } from './fleet-summary.js';

/** Devices whose running version is not known are drawn under this name. */
export const UNKNOWN_VERSION = '(unknown)';

export interface VersionSample {
  at: number;
  version: string;
  devices: number;
}

/**
 * Devices per version over time, for the platform page's chart: every few minutes the counts the registry keeps
 * are written as one row per platform and version. Several instances write the same instant (their registries hold
 * the same fleet); the first row of an instant is kept, so the table does not grow with the number of instances.
 */
export class VersionSamples {
  constructor(private readonly db: Database) {}

  /** Writes the current counts under the instant of `intervalMs` that `now` falls in; returns the rows offered. */
  async record(summary: FleetSummary, now: number, intervalMs: number): Promise<number> {
    const at = Math.floor(now / intervalMs) * intervalMs;
    const rows: { platform_id: number; at: number; version: string; devices: number }[] = [];
    for (const platformId of summary.platformIds()) {
      if (platformId === null) continue;
      for (const [version, devices] of summary.platform(platformId).byVersion)
        if (devices > 0) rows.push({ platform_id: platformId, at, version: version ?? UNKNOWN_VERSION, devices });
    }
    // A few hundred rows per statement keeps within SQLite's and PostgreSQL's parameter limits.
    for (let i = 0; i < rows.length; i += 200) {
      await this.db
        .insertInto('version_samples')
        .values(rows.slice(i, i + 200))
        .onConflict((oc) => oc.columns(['platform_id', 'at', 'version']).doNothing())
        .execute();
    }
    return rows.length;
  }

  /** One platform's samples since a time, oldest first. */
  async since(platformId: number, since: number): Promise<VersionSample[]> {
    const rows = await this.db
      .selectFrom('version_samples')
      .select(['at', 'version', 'devices'])
      .where('platform_id', '=', platformId)
      .where('at', '>=', since)
      .orderBy('at')
      .orderBy('version')
      .execute();
    return rows.map((r) => ({ at: Number(r.at), version: r.version, devices: Number(r.devices) }));
  }

  /** Forgets samples older than `before`; returns how many. */
  async prune(before: number): Promise<number> {
    const result = await this.db.deleteFrom('version_samples').where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

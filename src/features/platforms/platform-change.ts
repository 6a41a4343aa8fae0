import type { PlatformRow } from '../../db/tables.js';

/** The settings a change event reports, by the names the API uses; the secret is only ever said to have changed. */
const SHOWN_FIELDS = [
  ['name', 'name'],
  ['chip', 'chip'],
  ['accessMode', 'access_mode'],
  ['fsPartitionSize', 'fs_partition_size'],
  ['deviceAuth', 'device_auth'],
  ['deviceUser', 'device_user'],
  ['releasePolicy', 'release_policy'],
  ['rolloutTemplate', 'rollout_template'],
  ['updateWindow', 'update_window'],
  ['esp8266Gzip', 'esp8266_gzip'],
  ['minimalPlatformId', 'minimal_platform_id'],
  ['flashMode', 'flash_mode'],
] as const satisfies readonly (readonly [string, keyof PlatformRow])[];

/**
 * What a `platform-updated` event says: each setting that changed, old → new, and whether the device secret was set,
 * changed or removed. Built from the rows before and after, never from the request, so nothing a person typed into
 * a secret field can reach the event log (which every viewer reads).
 */
export function describePlatformChange(before: PlatformRow, after: PlatformRow): string {
  const parts: string[] = [];
  for (const [label, column] of SHOWN_FIELDS) {
    if (before[column] !== after[column]) parts.push(`${label}: ${shown(before[column])} → ${shown(after[column])}`);
  }
  const [had, has] = [before.device_secret_hash, after.device_secret_hash];
  if (had !== has) parts.push(!had ? 'device secret set' : !has ? 'device secret removed' : 'device secret changed');
  return parts.length > 0 ? parts.join('; ') : 'nothing changed';
}

function shown(value: string | number | null): string {
  return value === null ? 'none' : String(value);
}

import type {
  AllowlistRow,
  ApiTokenRow,
  DeviceRow,
  EventRow,
  ImageRow,
  PlatformKeyRow,
  PlatformRow,
} from '../db/tables.js';

/*
 * What operators see of the catalogue and the fleet: the read service (`fleet/fleet-reader.ts`) answers with these,
 * the pages draw them and the REST API's JSON (`api-views.ts`) is made from them; ui/ imports these, never db/.
 * Each names the columns it shows, so a column added to a table stays out of sight until a view names it, and a
 * store's row already is its view (no copy per device). A view that must differ from its columns becomes an
 * interface of its own here, mapped by the reader, and nothing that draws it needs to know. Times are epoch
 * milliseconds, MACs 12 lower-case hex digits.
 */

export type PlatformView = Pick<
  PlatformRow,
  | 'id'
  | 'name'
  | 'chip'
  | 'access_mode'
  | 'released_app_id'
  | 'released_fs_id'
  | 'app_release_pinned'
  | 'fs_partition_size'
  | 'device_auth'
  | 'device_user'
  // Shown only as set or not set.
  | 'device_secret_hash'
  | 'created_at'
  | 'updated_at'
  | 'release_policy'
  | 'rollout_template'
  | 'update_window'
  | 'esp8266_gzip'
  | 'minimal_platform_id'
  | 'flash_mode'
>;

export type ImageView = Pick<
  ImageRow,
  | 'id'
  | 'platform_id'
  | 'kind'
  | 'version'
  | 'chip'
  | 'size'
  | 'md5'
  | 'sha256'
  | 'filename'
  | 'identity_source'
  | 'uploaded_at'
  // JSON ImageSignature (features/signing/image-signature.ts).
  | 'signature'
>;

/** A public key a platform trusts (issue 17): public material only. */
export type PlatformKeyView = Pick<
  PlatformKeyRow,
  'id' | 'digest' | 'type' | 'bits' | 'label' | 'created_by' | 'created_at'
>;

export type AllowlistEntryView = Pick<AllowlistRow, 'mac' | 'label' | 'created_at'>;

export type DeviceView = Pick<
  DeviceRow,
  | 'mac'
  | 'platform_id'
  | 'platform_name'
  | 'family'
  | 'ip'
  | 'reported_version'
  | 'sdk_version'
  | 'free_space'
  | 'chip_size'
  | 'sketch_md5'
  | 'first_seen_at'
  | 'last_seen_at'
  | 'check_count'
  | 'download_count'
  | 'last_decision'
  | 'last_reason'
  | 'downloads_of_release'
  | 'status'
  | 'rollout_id'
  | 'rollout_state'
  | 'rollout_attempts'
  | 'rollout_failure'
>;

export type EventView = Pick<
  EventRow,
  | 'id'
  | 'at'
  | 'type'
  | 'platform_name'
  | 'mac'
  | 'from_version'
  | 'to_version'
  | 'decision'
  | 'reason'
  | 'detail'
  | 'status'
  | 'actor'
  | 'occurrences'
>;

/** An API token as its owner sees it: never the secret, nor its hash. */
export type ApiTokenView = Pick<ApiTokenRow, 'id' | 'name' | 'role' | 'created_at' | 'last_used_at' | 'revoked_at'>;

export type DeviceStatus = 'current' | 'update offered' | 'refused' | 'idle';

/** What the last check told the device, in one word for the inventory. */
export function deviceStatus(device: Pick<DeviceView, 'last_decision' | 'last_reason'>): DeviceStatus {
  if (device.last_decision === 'serve' || device.last_decision === 'announce-version') return 'update offered';
  if (device.last_decision === 'refuse') return 'refused';
  if (device.last_reason === 'current') return 'current';
  return 'idle';
}

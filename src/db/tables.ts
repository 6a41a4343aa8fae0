import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Times are epoch milliseconds (integers) on both SQLite and PostgreSQL; flags are 0/1 integers. */
type Millis = number;
/** A column the database fills in when an insert leaves it out. */
type WithDefault<T> = ColumnType<T, T | undefined, T>;

export interface PlatformTable {
  id: Generated<number>;
  /** Display name as typed; `name_key` (lower case) is unique. Names are data, never paths or patterns. */
  name: string;
  name_key: string;
  chip: string | null;
  access_mode: 'allowlist' | 'open';
  released_app_id: number | null;
  released_fs_id: number | null;
  /** 1 when a person chose the released app image (release/rollback); uploads then never move it. */
  app_release_pinned: number;
  /** Size of the devices' filesystem partition, for the size check in filesystem mode (the device does not send it). */
  fs_partition_size: number | null;
  created_at: Millis;
  updated_at: Millis;
  /** `off` (the original's behaviour), `basic` (HTTP Basic) or `token` (header or query parameter). */
  device_auth: Generated<'off' | 'basic' | 'token'>;
  device_user: string | null;
  /** SHA-256 (hex) of the platform's device secret. */
  device_secret_hash: string | null;
  /** What happens to a certain upload: `auto` released at once, `rollout` a rollout from the template, `manual` kept. */
  release_policy: WithDefault<ReleasePolicy>;
  /** JSON `RolloutPlanInput`: the stages, canary and thresholds a rollout of this platform starts with. */
  rollout_template: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON `{from, to, timeZone}`: the hours devices may be served an update; null: any time. */
  update_window: ColumnType<string | null, string | null | undefined, string | null>;
  /** Gzip copies for ESP8266 devices (docs/clients.md): `off`, `auto` (running image built with core ≥ 2.7) or `on`. */
  esp8266_gzip: WithDefault<Esp8266Gzip>;
  /** The platform whose released app is this one's Tasmota `-minimal` image; null: none paired. */
  minimal_platform_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** ESP8266: the flash mode the boards run (qio, qout, dio, dout); signed images must carry it (protocol.md §7.1). */
  flash_mode: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A public key a platform's boards trust (issue 17). Never a private key. */
export interface PlatformKeyTable {
  id: Generated<number>;
  platform_id: number;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex. */
  digest: string;
  type: 'rsa' | 'ec';
  bits: number;
  /** SubjectPublicKeyInfo PEM. */
  pem: string;
  label: string | null;
  created_by: string;
  created_at: Millis;
}

export type Esp8266Gzip = 'off' | 'auto' | 'on';

export type ReleasePolicy = 'auto' | 'manual' | 'rollout';

export interface AllowlistTable {
  platform_id: number;
  /** 12 lower-case hex digits. */
  mac: string;
  label: string | null;
  created_at: Millis;
  /** SHA-256 (hex) of this device's own secret, if it has one. */
  secret_hash: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ImageTable {
  id: Generated<number>;
  platform_id: number;
  kind: 'app' | 'filesystem';
  version: string;
  /** Normalised for uniqueness: `v1.2.3` and `1.2.3` are one version. */
  version_key: string;
  chip: string | null;
  size: number;
  md5: string;
  sha256: string;
  /** ESP32: SHA-256 over the image minus its digest, upper case, as `x-ESP32-sketch-sha256` reports it. */
  appended_digest: string | null;
  /** ESP8266: MD5s of the file with the flash-mode byte set to 0–3, as `x-ESP8266-sketch-md5` may report it. */
  md5_variants: string | null;
  /** The analyser's result and the identity, as JSON. */
  analysis: string;
  identity_source: string | null;
  filename: string | null;
  uploaded_at: Millis;
  /** JSON `ImageSignature` (features/signing): the signature found at upload against the platform's keys. */
  signature: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface DeviceTable {
  mac: string;
  platform_id: number | null;
  platform_name: string;
  family: string | null;
  ip: string | null;
  reported_version: string | null;
  sdk_version: string | null;
  free_space: number | null;
  chip_size: number | null;
  sketch_md5: string | null;
  first_seen_at: Millis;
  last_seen_at: Millis;
  check_count: number;
  /** Every download the device started, over its life. */
  download_count: number;
  /** The image the device's latest download was of, and how many downloads of it came one after another. */
  downloaded_image_id: number | null;
  downloads_of_release: number;
  last_decision: string;
  last_reason: string;
  /** The kept image the device runs (by digest or version), when it is one. */
  running_image_id: number | null;
  /** current, outdated, newer, unknown or refused: against what the platform moves devices to now. */
  status: WithDefault<string>;
  /** When its platform, running image, decision or reason last changed (the newest change wins across instances). */
  changed_at: WithDefault<Millis>;
  /** What the rollout `rollout_id` knows of the device (offered, updated, failed, silent); null: never served by it. */
  rollout_id: number | null;
  rollout_state: string | null;
  rollout_attempts: WithDefault<number>;
  rollout_first_served_at: Millis | null;
  rollout_served_at: Millis | null;
  rollout_checks_since_served: WithDefault<number>;
  rollout_outcome_at: Millis | null;
  rollout_failure: string | null;
}

export interface EventTable {
  id: Generated<number>;
  at: Millis;
  type: string;
  platform_name: string | null;
  mac: string | null;
  from_version: string | null;
  to_version: string | null;
  decision: string | null;
  reason: string | null;
  detail: string | null;
  /** The HTTP status a device was answered with; null for events that are not device requests. */
  status: number | null;
  /** How many identical occurrences this event stands for (refusals folded within an interval). */
  occurrences: WithDefault<number>;
  /** Who made a change: a user or API token name; null for device events. */
  actor: ColumnType<string | null, string | null | undefined, string | null>;
}

export type RolloutState = 'running' | 'paused' | 'completed' | 'aborted';

export interface RolloutTable {
  id: Generated<number>;
  platform_id: number;
  image_id: number | null;
  previous_image_id: number | null;
  target_version: string;
  previous_version: string | null;
  state: RolloutState;
  /** JSON: percentages, strictly increasing, the last 100. */
  stages: string;
  /** JSON `{groups, macs}`: admitted before any percentage (stage 0 when not empty). */
  canary: string;
  /** JSON `RolloutPolicy`. */
  policy: string;
  stage_index: number;
  stage_started_at: Millis;
  pause_reason: string | null;
  created_by: string;
  created_at: Millis;
  updated_at: Millis;
  ended_at: Millis | null;
  /** JSON `KeyChange` when the target is signed by another key than the image it replaces (confirmed at start). */
  key_change: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface DeviceGroupTable {
  id: Generated<number>;
  platform_id: number;
  name: string;
  name_key: string;
  /** 1: rollouts never move these devices. */
  excluded: number;
  /** Devices of this group are served this image, whatever is released or rolled out. */
  pinned_image_id: number | null;
  created_at: Millis;
}

export interface DeviceGroupMemberTable {
  group_id: number;
  mac: string;
}

export interface VersionSampleTable {
  platform_id: number;
  at: Millis;
  version: string;
  devices: number;
}

export interface BlobTable {
  key: string;
  data: Buffer;
  size: number;
  committed_at: Millis;
}

/** A release's full-flash files for a browser install (migration 011). */
export interface InstallAssetTable {
  id: Generated<number>;
  /** The OTA image (release) whose application this asset installs. */
  image_id: number;
  /** `factory`: one image written at 0; `parts`: bootloader, partition table and app. */
  layout: 'factory' | 'parts';
  chip: string;
  /** Where the application starts in flash (its boot partition). */
  app_offset: number;
  created_by: string;
  created_at: Millis;
}

export interface InstallAssetPartTable {
  asset_id: number;
  role: 'factory' | 'bootloader' | 'partition-table' | 'app';
  flash_offset: number;
  /** The blob's key: the SHA-256 of the file. */
  blob_key: string;
  size: number;
  md5: string;
}

export type Role = 'admin' | 'uploader' | 'viewer';

export interface UserTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: Role;
  created_at: Millis;
  password_changed_at: Millis;
}

export interface SessionTable {
  /** SHA-256 of the cookie value: a stolen database does not yield live sessions. */
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: Millis;
  expires_at: Millis;
}

export interface ApiTokenTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  role: Role;
  created_at: Millis;
  last_used_at: Millis | null;
  revoked_at: Millis | null;
}

/** A per-device manifest URL's key: the device (MAC) it stands for on one platform (migration 010). */
export interface DeviceKeyTable {
  key: string;
  platform_id: number;
  mac: string;
  created_at: Millis;
  created_by: string;
}

export interface Tables {
  users: UserTable;
  sessions: SessionTable;
  api_tokens: ApiTokenTable;
  blobs: BlobTable;
  platforms: PlatformTable;
  platform_keys: PlatformKeyTable;
  allowlist: AllowlistTable;
  images: ImageTable;
  devices: DeviceTable;
  events: EventTable;
  rollouts: RolloutTable;
  device_groups: DeviceGroupTable;
  device_group_members: DeviceGroupMemberTable;
  version_samples: VersionSampleTable;
  device_keys: DeviceKeyTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  install_assets: InstallAssetTable;
  install_asset_parts: InstallAssetPartTable;
}

/** An endpoint that receives events as signed JSON (migration 014). */
export interface WebhookTable {
  id: Generated<number>;
  url: string;
  /** Signs each body (HMAC-SHA256); never shown after creation, never exported. */
  secret: string;
  /** JSON list of event types it wants; empty: every event. */
  event_types: string;
  created_at: Millis;
  created_by: string;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  webhook_id: number;
  event_type: string;
  platform_name: string | null;
  event_at: Millis;
  outcome: 'delivered' | 'failed';
  attempts: number;
  http_status: number | null;
  error: string | null;
  finished_at: Millis;
}

export type WebhookRow = Selectable<WebhookTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;

export type PlatformRow = Selectable<PlatformTable>;
export type DeviceKeyRow = Selectable<DeviceKeyTable>;
export type NewPlatform = Insertable<PlatformTable>;
export type PlatformUpdate = Updateable<PlatformTable>;
export type PlatformKeyRow = Selectable<PlatformKeyTable>;
export type NewPlatformKey = Insertable<PlatformKeyTable>;
export type AllowlistRow = Selectable<AllowlistTable>;
export type NewAllowlistEntry = Insertable<AllowlistTable>;
export type ImageRow = Selectable<ImageTable>;
export type NewImage = Insertable<ImageTable>;
export type DeviceRow = Selectable<DeviceTable>;
export type UserRow = Selectable<UserTable>;
export type SessionRow = Selectable<SessionTable>;
export type ApiTokenRow = Selectable<ApiTokenTable>;
export type EventRow = Selectable<EventTable>;
export type InstallAssetRow = Selectable<InstallAssetTable>;
export type InstallAssetPartRow = Selectable<InstallAssetPartTable>;
export type NewEvent = Insertable<EventTable>;
export type RolloutRow = Selectable<RolloutTable>;
export type NewRollout = Insertable<RolloutTable>;
export type DeviceGroupRow = Selectable<DeviceGroupTable>;
export type VersionSampleRow = Selectable<VersionSampleTable>;
export type { ColumnType };

import { formatMac } from '../lib/mac.js';
import { imageSignatureJson } from './signing/signing-views.js';
import { rolloutTemplateJson, updateWindowJson } from './platforms/release-settings.js';
import type { AllowlistEntryView, DeviceView, EventView, ImageView, PlatformView } from './views.js';

/** JSON shapes of the REST API: camelCase, ISO times, MACs as devices write them. */
/** `minimalPlatform`: the paired Tasmota minimal platform's name, where the caller looked it up (the platform routes). */
export function platformJson(p: PlatformView, minimalPlatform?: string | null) {
  return {
    name: p.name,
    chip: p.chip,
    accessMode: p.access_mode,
    releasedAppId: p.released_app_id,
    releasedFilesystemId: p.released_fs_id,
    releasePinned: p.app_release_pinned === 1,
    fsPartitionSize: p.fs_partition_size,
    deviceAuth: p.device_auth,
    deviceUser: p.device_user,
    deviceSecretSet: p.device_secret_hash !== null,
    /** What happens to a certain upload: auto (released), manual (kept) or rollout (README "Release policy"). */
    releasePolicy: p.release_policy,
    rolloutTemplate: rolloutTemplateJson(p.rollout_template),
    updateWindow: updateWindowJson(p.update_window),
    esp8266Gzip: p.esp8266_gzip,
    ...(minimalPlatform !== undefined ? { minimalPlatform } : {}),
    /** ESP8266: the flash mode the boards run; signed images must carry it (protocol.md §7.1). */
    flashMode: p.flash_mode,
    createdAt: iso(p.created_at),
    updatedAt: iso(p.updated_at),
  };
}

export function imageJson(i: ImageView, platform?: PlatformView) {
  return {
    id: i.id,
    platform: platform?.name,
    kind: i.kind,
    version: i.version,
    chip: i.chip,
    size: i.size,
    md5: i.md5,
    sha256: i.sha256,
    filename: i.filename,
    identitySource: i.identity_source,
    uploadedAt: iso(i.uploaded_at),
    /** unsigned, verified (by a platform key), signed (no platform key to check), invalid; null before issue 17. */
    signature: imageSignatureJson(i.signature),
    released: platform ? platform.released_app_id === i.id || platform.released_fs_id === i.id : undefined,
  };
}

export function allowlistJson(a: AllowlistEntryView) {
  return { mac: formatMac(a.mac), label: a.label, addedAt: iso(a.created_at) };
}

export function deviceJson(d: DeviceView) {
  return {
    mac: formatMac(d.mac),
    platform: d.platform_name,
    family: d.family,
    ip: d.ip,
    version: d.reported_version,
    sdkVersion: d.sdk_version,
    freeSpace: d.free_space,
    chipSize: d.chip_size,
    sketchMd5: d.sketch_md5,
    firstSeenAt: iso(d.first_seen_at),
    lastSeenAt: iso(d.last_seen_at),
    checks: d.check_count,
    downloads: d.download_count,
    downloadsOfRelease: d.downloads_of_release,
    lastDecision: d.last_decision,
    lastReason: d.last_reason,
    /** Against the image its platform moves it to (its pin, the running rollout's image, or the release). */
    status: d.status,
    rollout:
      d.rollout_id === null
        ? null
        : { id: d.rollout_id, state: d.rollout_state, attempts: d.rollout_attempts, failure: d.rollout_failure },
  };
}

export function eventJson(e: EventView) {
  return {
    id: e.id,
    at: iso(e.at),
    type: e.type,
    platform: e.platform_name,
    mac: e.mac ? formatMac(e.mac) : null,
    fromVersion: e.from_version,
    toVersion: e.to_version,
    decision: e.decision,
    reason: e.reason,
    actor: e.actor,
    occurrences: e.occurrences,
    detail: e.detail,
    status: e.status,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

import type { Catalogue } from '../catalogue.js';
import type { AllowlistRow, PlatformRow } from '../../db/tables.js';
import { isChipName } from '../../firmware-image/index.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import { normalizeMac } from '../../lib/mac.js';
import { describePlatformChange } from './platform-change.js';
import { releaseSettingColumns, type ReleaseSettings } from './release-settings.js';
import { clientSettingColumns, type ClientSettings } from './client-settings.js';
import { nameKey } from './platform-store.js';
import { hashDeviceSecret } from '../update-check/device-credentials.js';
import { FLASH_MODES, type FlashMode } from '../signing/image-signature.js';

export type AccessMode = 'allowlist' | 'open';

export interface PlatformInput
  extends Pick<PlatformChanges, 'deviceAuth' | 'deviceUser' | 'deviceSecret'>, ReleaseSettings, ClientSettings {
  name: string;
  chip?: string | null | undefined;
  accessMode?: AccessMode | undefined;
  fsPartitionSize?: number | null | undefined;
  flashMode?: FlashMode | null | undefined;
}

export interface PlatformChanges extends ReleaseSettings, ClientSettings {
  /** Device authentication: `off`, `basic` (deviceUser + deviceSecret) or `token` (deviceSecret). */
  deviceAuth?: 'off' | 'basic' | 'token' | undefined;
  deviceUser?: string | null | undefined;
  /** Written only: stored as its SHA-256. */
  deviceSecret?: string | null | undefined;
  name?: string | undefined;
  chip?: string | null | undefined;
  accessMode?: AccessMode | undefined;
  fsPartitionSize?: number | null | undefined;
  /** ESP8266: the flash mode the boards run; signed uploads must carry it (protocol.md §7.1). */
  flashMode?: FlashMode | null | undefined;
}

/** Names are shown and typed by people and sent by devices in `dev=`; they are data, never paths or patterns. */
const MAX_NAME = 64;

export function validatePlatformName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (
    trimmed.length === 0 ||
    trimmed.length > MAX_NAME ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f/\\]/.test(trimmed) ||
    // An unpaired surrogate would be stored, then never matched again: URLs carry it as U+FFFD.
    !trimmed.isWellFormed()
  ) {
    throw new DomainError(
      'invalid-name',
      `a platform name is 1–${MAX_NAME} characters of text without slashes or control characters`,
    );
  }
  return trimmed;
}

const MAX_LABEL = 100;

/** A device's label is shown beside its MAC; one line of text, or none. */
export function validateDeviceLabel(label: string | null | undefined): string | null {
  const trimmed = label?.trim() ?? '';
  // eslint-disable-next-line no-control-regex
  if (trimmed.length > MAX_LABEL || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new DomainError('invalid-label', `a device label is up to ${MAX_LABEL} characters on one line`);
  }
  return trimmed || null;
}

export function validateChip(chip: string | null | undefined): string | null | undefined {
  if (chip === undefined || chip === null || chip === '') return chip === '' ? null : chip;
  const lower = chip.trim().toLowerCase().replace(/-/g, '');
  if (!isChipName(lower))
    throw new DomainError('bad-request', `unknown chip "${chip}" (e.g. esp8266, esp32, esp32s3, esp32c3)`);
  return lower;
}

export function validateFlashMode(mode: string | null | undefined): FlashMode | null | undefined {
  if (mode === undefined || mode === null) return mode;
  const found = FLASH_MODES.find((m) => m === mode.trim().toLowerCase());
  if (!found) throw new DomainError('bad-request', `unknown flash mode "${mode}" (${FLASH_MODES.join(', ')})`);
  return found;
}

/** Platforms and their allowlists: the rules side of the catalogue. */
export class PlatformService {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly onChange: () => void,
    /** After a deletion: the platform's firmware files can be collected once the grace period has passed. */
    private readonly onDelete: () => void = () => undefined,
  ) {}

  async get(name: string): Promise<PlatformRow> {
    const platform = await this.catalogue.stores.platforms.findByName(name);
    if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
    return platform;
  }

  /** The name of the platform paired as this one's Tasmota minimal platform, or null. */
  async minimalName(platform: Pick<PlatformRow, 'minimal_platform_id'>): Promise<string | null> {
    if (platform.minimal_platform_id === null) return null;
    return (await this.catalogue.stores.platforms.findById(platform.minimal_platform_id))?.name ?? null;
  }

  async create(input: PlatformInput, actor: string): Promise<PlatformRow> {
    const name = validatePlatformName(input.name);
    const chip = validateChip(input.chip) ?? null;
    const release = releaseSettingColumns(input);
    const now = this.clock.now();
    const created = await this.catalogue.transact(async (stores) => {
      if (await stores.platforms.findByName(name)) {
        throw new DomainError('platform-exists', `a platform named "${name}" already exists`);
      }
      const clients = await clientSettingColumns(input, stores, undefined);
      const row = await stores.platforms.insert({
        name,
        name_key: nameKey(name),
        chip,
        access_mode: input.accessMode ?? 'allowlist',
        released_app_id: null,
        released_fs_id: null,
        app_release_pinned: 0,
        fs_partition_size: input.fsPartitionSize ?? null,
        flash_mode: validateFlashMode(input.flashMode) ?? null,
        ...deviceAuthChanges({ device_auth: 'off', device_user: null, device_secret_hash: null }, input),
        ...release,
        ...clients,
        created_at: now,
        updated_at: now,
      });
      await stores.events.append([changeEvent(now, 'platform-created', name, actor)]);
      return row;
    });
    this.onChange();
    return created;
  }

  async update(name: string, changes: PlatformChanges, actor: string): Promise<PlatformRow> {
    const release = releaseSettingColumns(changes);
    const now = this.clock.now();
    const updated = await this.catalogue.transact(async (stores) => {
      const platform = await stores.platforms.lockByName(name);
      if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
      const newName = changes.name !== undefined ? validatePlatformName(changes.name) : platform.name;
      if (nameKey(newName) !== platform.name_key && (await stores.platforms.findByName(newName))) {
        throw new DomainError('platform-exists', `a platform named "${newName}" already exists`);
      }
      const chip = changes.chip !== undefined ? validateChip(changes.chip) : platform.chip;
      const clients = await clientSettingColumns(changes, stores, platform.id);
      await stores.platforms.update(platform.id, {
        name: newName,
        name_key: nameKey(newName),
        chip: chip ?? null,
        access_mode: changes.accessMode ?? platform.access_mode,
        fs_partition_size: changes.fsPartitionSize !== undefined ? changes.fsPartitionSize : platform.fs_partition_size,
        flash_mode: changes.flashMode !== undefined ? validateFlashMode(changes.flashMode) : platform.flash_mode,
        ...deviceAuthChanges(platform, changes),
        ...release,
        ...clients,
        updated_at: now,
      });
      const after = (await stores.platforms.findById(platform.id))!;
      await stores.events.append([
        changeEvent(now, 'platform-updated', newName, actor, describePlatformChange(platform, after)),
      ]);
      return after;
    });
    this.onChange();
    return updated;
  }

  async delete(name: string, actor: string): Promise<void> {
    const now = this.clock.now();
    await this.catalogue.transact(async (stores) => {
      const platform = await stores.platforms.lockByName(name);
      if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
      // Its groups go first: their pins would hold its images.
      await stores.groups.deleteOfPlatform(platform.id);
      await stores.platforms.delete(platform.id);
      await stores.events.append([changeEvent(now, 'platform-deleted', platform.name, actor)]);
    });
    // Its images' blobs are now unreferenced; the collector removes them after the grace period.
    this.onChange();
    this.onDelete();
  }

  /** Gives one allowed device its own secret (or takes it away with null). */
  async setDeviceSecret(name: string, macInput: string, secret: string | null, actor: string): Promise<void> {
    const mac = normalizeMac(macInput);
    if (!mac) throw new DomainError('invalid-mac', `"${macInput}" is not a MAC address (e.g. 5C:CF:7F:12:34:56)`);
    if (secret !== null) checkSecret(secret);
    const now = this.clock.now();
    await this.catalogue.transact(async (stores) => {
      const platform = await stores.platforms.lockByName(name);
      if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
      if (!(await stores.allowlist.setSecret(platform.id, mac, secret === null ? null : hashDeviceSecret(secret)))) {
        throw new DomainError('unknown-device', `${mac} is not on the allowlist of "${platform.name}"`);
      }
      await stores.events.append([{ ...changeEvent(now, 'device-secret-changed', platform.name, actor), mac }]);
    });
    this.onChange();
  }

  async listAllowed(name: string): Promise<AllowlistRow[]> {
    const platform = await this.get(name);
    return this.catalogue.stores.allowlist.list(platform.id);
  }

  async allow(name: string, macInput: string, label: string | null | undefined, actor: string): Promise<AllowlistRow> {
    const mac = normalizeMac(macInput);
    if (!mac) throw new DomainError('invalid-mac', `"${macInput}" is not a MAC address (e.g. 5C:CF:7F:12:34:56)`);
    const checkedLabel = validateDeviceLabel(label);
    const now = this.clock.now();
    const entry = await this.catalogue.transact(async (stores) => {
      const platform = await stores.platforms.lockByName(name);
      if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
      const row: AllowlistRow = {
        platform_id: platform.id,
        mac,
        label: checkedLabel,
        created_at: now,
        secret_hash: null,
      };
      await stores.allowlist.upsert(row);
      await stores.events.append([{ ...changeEvent(now, 'device-allowed', platform.name, actor), mac }]);
      return row;
    });
    this.onChange();
    return entry;
  }

  async disallow(name: string, macInput: string, actor: string): Promise<void> {
    const mac = normalizeMac(macInput);
    if (!mac) throw new DomainError('invalid-mac', `"${macInput}" is not a MAC address (e.g. 5C:CF:7F:12:34:56)`);
    const now = this.clock.now();
    await this.catalogue.transact(async (stores) => {
      const platform = await stores.platforms.lockByName(name);
      if (!platform) throw new DomainError('unknown-platform', `there is no platform named "${name}"`);
      if (!(await stores.allowlist.remove(platform.id, mac))) {
        throw new DomainError('unknown-device', `${mac} is not on the allowlist of "${platform.name}"`);
      }
      await stores.events.append([{ ...changeEvent(now, 'device-disallowed', platform.name, actor), mac }]);
    });
    this.onChange();
  }
}

/** Device secrets are compared by SHA-256 on every check, so they must be long and random, not passwords. */
function checkSecret(secret: string): void {
  if (secret.length < 16 || secret.length > 200)
    throw new DomainError('bad-request', 'a device secret is 16 to 200 characters (use a random one)');
}

function deviceAuthChanges(
  platform: Pick<PlatformRow, 'device_auth' | 'device_user' | 'device_secret_hash'>,
  changes: PlatformChanges,
) {
  const mode = changes.deviceAuth ?? platform.device_auth;
  const user = changes.deviceUser !== undefined ? changes.deviceUser : platform.device_user;
  if (changes.deviceSecret) checkSecret(changes.deviceSecret);
  const secretHash =
    changes.deviceSecret !== undefined
      ? changes.deviceSecret
        ? hashDeviceSecret(changes.deviceSecret)
        : null
      : platform.device_secret_hash;
  if (mode === 'basic' && (!user || !secretHash))
    throw new DomainError('bad-request', 'HTTP Basic for devices needs a user name and a secret');
  if (mode === 'token' && !secretHash)
    throw new DomainError('bad-request', 'token authentication for devices needs a secret');
  return { device_auth: mode, device_user: user ?? null, device_secret_hash: secretHash ?? null };
}

export function changeEvent(at: number, type: string, platform: string, actor: string, detail?: string) {
  return {
    at,
    type,
    platform_name: platform,
    mac: null,
    from_version: null,
    to_version: null,
    decision: null,
    reason: null,
    actor,
    detail: detail ?? null,
  };
}

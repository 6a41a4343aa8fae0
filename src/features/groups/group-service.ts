import type { Catalogue, Stores } from '../catalogue.js';
import type { DeviceGroupRow, ImageRow, PlatformRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import { versionKey } from '../../lib/version.js';
import { changeEvent } from '../platforms/platform-service.js';
import { groupKey, isDevicePin, parseMacs, validateGroupName } from './group-input.js';

/** A group as people see it. */
export interface GroupSummary {
  name: string;
  excluded: boolean;
  /** The app version its devices are pinned to; null: not pinned. */
  pinnedVersion: string | null;
  members: number;
  createdAt: number;
}

export interface GroupDetail extends GroupSummary {
  /** Members, 12 lower-case hex digits each. */
  macs: string[];
}

export interface GroupChanges {
  name?: string | undefined;
  excluded?: boolean | undefined;
  /** A version of the platform's app images; null unpins. */
  pinnedVersion?: string | null | undefined;
}

/** Which devices to add: MACs, and/or every allowlisted MAC whose label contains this text (any case). */
export interface MemberSelection {
  macs?: readonly string[] | undefined;
  allowlistLabel?: string | undefined;
}

/**
 * Device groups of a platform: canaries for rollouts, devices rollouts never move (excluded), devices pinned to an
 * image. Every change is an event naming its actor; `onChange` makes the device check see it.
 */
export class GroupService {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly onChange: () => void,
  ) {}

  async list(platformName: string): Promise<GroupSummary[]> {
    const platform = await platformNamed(this.catalogue.stores, platformName);
    const rows = await this.catalogue.stores.groups.list(platform.id, { devicePins: false });
    return rows.map((r) => summary(r, r.pinned_version, r.members));
  }

  async get(platformName: string, groupName: string): Promise<GroupDetail> {
    const { stores } = this.catalogue;
    const platform = await platformNamed(stores, platformName);
    const group = await groupNamed(stores, platform, groupName);
    return detail(stores, group);
  }

  async create(platformName: string, input: { name: string } & GroupChanges, actor: string): Promise<GroupDetail> {
    const name = validateGroupName(input.name);
    const created = await this.change(platformName, actor, async (stores, platform, events) => {
      const existing = await stores.groups.findByName(platform.id, groupKey(name));
      if (existing) throw groupExists(existing.name);
      const image = input.pinnedVersion ? await appImage(stores, platform, input.pinnedVersion) : undefined;
      const group = await stores.groups.insert({
        platform_id: platform.id,
        name,
        name_key: groupKey(name),
        excluded: input.excluded ? 1 : 0,
        pinned_image_id: image?.id ?? null,
        created_at: this.clock.now(),
      });
      events.push(groupEvent('group-created', name, describe(group, image?.version ?? null)));
      return detail(stores, group);
    });
    return created;
  }

  async update(platformName: string, groupName: string, changes: GroupChanges, actor: string): Promise<GroupDetail> {
    return this.change(platformName, actor, async (stores, platform, events) => {
      const group = await groupNamed(stores, platform, groupName);
      const name = changes.name !== undefined ? validateGroupName(changes.name) : group.name;
      const clash =
        groupKey(name) === group.name_key ? undefined : await stores.groups.findByName(platform.id, groupKey(name));
      if (clash) throw groupExists(clash.name);
      let pinnedImageId = group.pinned_image_id;
      let pinnedVersion: string | null = null;
      if (changes.pinnedVersion !== undefined) {
        const image =
          changes.pinnedVersion === null ? undefined : await appImage(stores, platform, changes.pinnedVersion);
        pinnedImageId = image?.id ?? null;
        pinnedVersion = image?.version ?? null;
      } else if (pinnedImageId !== null) {
        pinnedVersion = (await stores.images.findById(pinnedImageId))?.version ?? null;
      }
      const after = {
        ...group,
        name,
        name_key: groupKey(name),
        excluded: changes.excluded === undefined ? group.excluded : changes.excluded ? 1 : 0,
        pinned_image_id: pinnedImageId,
      };
      const { name_key, excluded, pinned_image_id } = after;
      await stores.groups.update(group.id, { name, name_key, excluded, pinned_image_id });
      const renamed = name !== group.name ? `renamed from "${group.name}"; ` : '';
      events.push(groupEvent('group-changed', name, renamed + describe(after, pinnedVersion)));
      return detail(stores, after);
    });
  }

  async delete(platformName: string, groupName: string, actor: string): Promise<void> {
    await this.change(platformName, actor, async (stores, platform, events) => {
      const group = await groupNamed(stores, platform, groupName);
      await stores.groups.delete(group.id);
      events.push(groupEvent('group-deleted', group.name));
    });
  }

  /** Adds devices by MAC (any common format) and/or by allowlist label; answers the group as it now is. */
  async addMembers(
    platformName: string,
    groupName: string,
    selection: MemberSelection,
    actor: string,
  ): Promise<GroupDetail> {
    const macs = parseMacs(selection.macs ?? []);
    const label = selection.allowlistLabel?.trim().toLowerCase();
    return this.change(platformName, actor, async (stores, platform, events) => {
      const group = await groupNamed(stores, platform, groupName);
      if (label) {
        const allowed = await stores.allowlist.list(platform.id);
        for (const entry of allowed) if (entry.label?.toLowerCase().includes(label)) macs.push(entry.mac);
      }
      const before = new Set(await stores.groups.members(group.id));
      const added = [...new Set(macs)].filter((mac) => !before.has(mac));
      await stores.groups.addMembers(group.id, added);
      for (const mac of added) events.push({ ...groupEvent('group-members-added', group.name), mac });
      return detail(stores, group);
    });
  }

  async removeMembers(platformName: string, groupName: string, macInputs: readonly string[], actor: string) {
    const macs = parseMacs(macInputs);
    return this.change(platformName, actor, async (stores, platform, events) => {
      const group = await groupNamed(stores, platform, groupName);
      const before = new Set(await stores.groups.members(group.id));
      const removed = macs.filter((mac) => before.has(mac));
      await stores.groups.removeMembers(group.id, removed);
      for (const mac of removed) events.push({ ...groupEvent('group-members-removed', group.name), mac });
      return detail(stores, group);
    });
  }

  /**
   * The members of the named groups of a platform (a rollout's canary), 12 lower-case hex digits each, sorted and
   * without repeats; a name that is no group of the platform is a 400 naming it.
   */
  async membersOf(platformId: number, groupNames: string[]): Promise<string[]> {
    const { groups } = this.catalogue.stores;
    const macs = new Set<string>();
    const unknown: string[] = [];
    for (const name of groupNames) {
      const group = isDevicePin(groupKey(name)) ? undefined : await groups.findByName(platformId, groupKey(name));
      if (!group) unknown.push(name);
      else for (const mac of await groups.members(group.id)) macs.add(mac);
    }
    if (unknown.length > 0) {
      throw new DomainError(
        'bad-request',
        `no group named ${unknown.map((n) => `"${n}"`).join(', ')} on this platform`,
      );
    }
    return [...macs].sort();
  }

  /** Runs a change of one platform's groups under its lock, writes its events with the actor, then tells the view. */
  private async change<T>(
    platformName: string,
    actor: string,
    work: (stores: Stores, platform: PlatformRow, events: GroupEvent[]) => Promise<T>,
  ): Promise<T> {
    const now = this.clock.now();
    const result = await this.catalogue.transact(async (stores) => {
      const platform = await stores.platforms.lockByName(platformName);
      if (!platform) throw unknownPlatform(platformName);
      const events: GroupEvent[] = [];
      const result = await work(stores, platform, events);
      await stores.events.append(
        events.map((e) => ({
          ...changeEvent(now, e.type, platform.name, actor, e.detail),
          mac: e.mac ?? null,
        })),
      );
      return result;
    });
    this.onChange();
    return result;
  }
}

interface GroupEvent {
  type: string;
  detail: string;
  mac?: string;
}

function groupEvent(type: string, group: string, what?: string): GroupEvent {
  return { type, detail: what ? `group "${group}": ${what}` : `group "${group}"` };
}

function describe(group: Pick<DeviceGroupRow, 'excluded'>, pinnedVersion: string | null): string {
  return [
    group.excluded ? 'excluded from rollouts' : 'included in rollouts',
    pinnedVersion ? `pinned to ${pinnedVersion}` : 'not pinned',
  ].join(', ');
}

function summary(group: DeviceGroupRow, pinnedVersion: string | null, members: number): GroupSummary {
  return {
    name: group.name,
    excluded: group.excluded === 1,
    pinnedVersion,
    members,
    createdAt: group.created_at,
  };
}

async function detail(stores: Stores, group: DeviceGroupRow): Promise<GroupDetail> {
  const macs = await stores.groups.members(group.id);
  const pinned = group.pinned_image_id === null ? undefined : await stores.images.findById(group.pinned_image_id);
  return { ...summary(group, pinned?.version ?? null, macs.length), macs };
}

export async function platformNamed(stores: Stores, name: string): Promise<PlatformRow> {
  const platform = await stores.platforms.findByName(name);
  if (!platform) throw unknownPlatform(name);
  return platform;
}

function unknownPlatform(name: string): DomainError {
  return new DomainError('unknown-platform', `there is no platform named "${name}"`);
}

async function groupNamed(stores: Stores, platform: PlatformRow, name: string): Promise<DeviceGroupRow> {
  const key = groupKey(name);
  const group = isDevicePin(key) ? undefined : await stores.groups.findByName(platform.id, key);
  if (!group) throw new DomainError('unknown-group', `"${platform.name}" has no group named "${name}"`);
  return group;
}

function groupExists(name: string): DomainError {
  return new DomainError('group-exists', `a group named "${name}" already exists on this platform`);
}

/** The platform's app image of this version: only app images are pinned (a filesystem follows its release). */
export async function appImage(stores: Stores, platform: PlatformRow, version: string): Promise<ImageRow> {
  const key = versionKey(version);
  const image = await stores.images.findByVersion(platform.id, 'app', key);
  if (image) return image;
  if (await stores.images.findByVersion(platform.id, 'filesystem', key)) {
    throw new DomainError('wrong-kind', `${version} is a filesystem image: only application images can be pinned`);
  }
  throw new DomainError('unknown-image', `"${platform.name}" has no application image version ${version}`);
}

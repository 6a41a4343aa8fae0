import type { Database } from '../../db/database.js';
import { refusedAs } from '../../db/database-errors.js';
import type { DeviceGroupRow } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';

/** A group with how many devices it holds and the version it pins (none: not pinned). */
export interface GroupSummaryRow extends DeviceGroupRow {
  members: number;
  pinned_version: string | null;
}

/** A group of one device's, with its platform's name: what a device page shows. */
export interface DeviceGroupOfMac extends DeviceGroupRow {
  platform_name: string;
  pinned_version: string | null;
}

/** What the device check needs: every device that is pinned or excluded, by platform. */
export interface SteeredMember {
  platform_id: number;
  group_id: number;
  mac: string;
  excluded: number;
  pinned_image_id: number | null;
  /** The device's own pin (its `@mac` group), not a group people named. */
  own: boolean;
}

/** Members are written in slices this big, so a bulk add stays under SQLite's and PostgreSQL's parameter limits. */
const SLICE = 500;

/** SQL for device groups and their members. Names are looked up by `name_key`, the lower-cased name. */
export class GroupStore {
  constructor(private readonly db: Database) {}

  /** The platform's groups by name, with member counts; device pins (`@mac` groups) only when asked. */
  async list(platformId: number, options: { devicePins: boolean }): Promise<GroupSummaryRow[]> {
    let query = this.db
      .selectFrom('device_groups as g')
      .leftJoin('images as i', 'i.id', 'g.pinned_image_id')
      .selectAll('g')
      .select('i.version as pinned_version')
      .select((eb) =>
        eb
          .selectFrom('device_group_members as m')
          .whereRef('m.group_id', '=', 'g.id')
          .select((c) => c.fn.countAll<number>().as('n'))
          .as('members'),
      )
      .where('g.platform_id', '=', platformId);
    if (!options.devicePins) query = query.where('g.name_key', 'not like', '@%');
    const rows = await query.orderBy('g.name_key').execute();
    return rows.map((r) => ({ ...r, members: Number(r.members ?? 0) }));
  }

  findByName(platformId: number, nameKey: string): Promise<DeviceGroupRow | undefined> {
    return this.db
      .selectFrom('device_groups')
      .selectAll()
      .where('platform_id', '=', platformId)
      .where('name_key', '=', nameKey)
      .executeTakeFirst();
  }

  async insert(group: Omit<DeviceGroupRow, 'id'>): Promise<DeviceGroupRow> {
    return refusedAs(this.db.insertInto('device_groups').values(group).returningAll().executeTakeFirstOrThrow(), {
      unique: () => groupExists(group.name),
    });
  }

  async update(id: number, changes: Partial<Omit<DeviceGroupRow, 'id' | 'platform_id'>>): Promise<void> {
    await refusedAs(this.db.updateTable('device_groups').set(changes).where('id', '=', id).execute(), {
      unique: () => groupExists(changes.name ?? ''),
    });
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('device_group_members').where('group_id', '=', id).execute();
    await this.db.deleteFrom('device_groups').where('id', '=', id).execute();
  }

  /** Deletes every group of the platform: its pins would otherwise hold its images while the platform goes. */
  async deleteOfPlatform(platformId: number): Promise<void> {
    const ids = this.db.selectFrom('device_groups').select('id').where('platform_id', '=', platformId);
    await this.db.deleteFrom('device_group_members').where('group_id', 'in', ids).execute();
    await this.db.deleteFrom('device_groups').where('platform_id', '=', platformId).execute();
  }

  members(groupId: number): Promise<string[]> {
    return this.db
      .selectFrom('device_group_members')
      .select('mac')
      .where('group_id', '=', groupId)
      .orderBy('mac')
      .execute()
      .then((rows) => rows.map((r) => r.mac));
  }

  /** Adds the MACs that are not members yet. */
  async addMembers(groupId: number, macs: readonly string[]): Promise<void> {
    for (let i = 0; i < macs.length; i += SLICE) {
      const rows = macs.slice(i, i + SLICE).map((mac) => ({ group_id: groupId, mac }));
      await this.db
        .insertInto('device_group_members')
        .values(rows)
        .onConflict((oc) => oc.columns(['group_id', 'mac']).doNothing())
        .execute();
    }
  }

  async removeMembers(groupId: number, macs: readonly string[]): Promise<void> {
    for (let i = 0; i < macs.length; i += SLICE) {
      await this.db
        .deleteFrom('device_group_members')
        .where('group_id', '=', groupId)
        .where('mac', 'in', macs.slice(i, i + SLICE))
        .execute();
    }
  }

  /** The groups a device belongs to, on every platform, device pins included. */
  ofMac(mac: string): Promise<DeviceGroupOfMac[]> {
    return this.db
      .selectFrom('device_group_members as m')
      .innerJoin('device_groups as g', 'g.id', 'm.group_id')
      .innerJoin('platforms as p', 'p.id', 'g.platform_id')
      .leftJoin('images as i', 'i.id', 'g.pinned_image_id')
      .selectAll('g')
      .select(['p.name as platform_name', 'i.version as pinned_version'])
      .where('m.mac', '=', mac)
      .orderBy('p.name_key')
      .orderBy('g.id')
      .execute();
  }

  /** The names of the groups pinned to an image. */
  async pinnedTo(imageId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('device_groups')
      .select('name')
      .where('pinned_image_id', '=', imageId)
      .orderBy('name_key')
      .execute();
    return rows.map((r) => r.name);
  }

  /** Every member of a pinned or excluded group, oldest group first (the order pins are taken in). */
  async steered(): Promise<SteeredMember[]> {
    const rows = await this.db
      .selectFrom('device_group_members as m')
      .innerJoin('device_groups as g', 'g.id', 'm.group_id')
      .select(['g.platform_id', 'g.id as group_id', 'g.name_key', 'm.mac', 'g.excluded', 'g.pinned_image_id'])
      .where((eb) => eb.or([eb('g.excluded', '=', 1), eb('g.pinned_image_id', 'is not', null)]))
      .orderBy('g.id')
      .execute();
    return rows.map(({ name_key, ...row }) => ({ ...row, own: name_key.startsWith('@') }));
  }
}

function groupExists(name: string): DomainError {
  return new DomainError('group-exists', `a group named "${name}" already exists on this platform`);
}

import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Database } from '../../db/database.js';
import type { DeviceRow, Tables } from '../../db/tables.js';
import type { DeviceStatus } from '../fleet/device-status.js';

/**
 * The device list's queries at a million devices (issue 13 §2): every filter is a condition the database answers from
 * an index (migration 009), every page starts after a key (never `OFFSET`), and nothing is filtered after reading.
 */

/** The chip families a device check tells apart (update-check/esp-request.ts `DeviceFamily`). */
export const DEVICE_CHIPS = ['esp8266', 'esp32'] as const;

/** What a device list shows; every field narrows it, none given is the whole fleet. */
export interface DeviceFilter {
  platformId?: number | undefined;
  /** Stored statuses (features/fleet/device-status.ts); an empty list matches no device. */
  statuses?: readonly DeviceStatus[] | undefined;
  /** The exact version text the device reports; null: devices that report none. */
  version?: string | null | undefined;
  chip?: string | undefined;
  seenSince?: number | undefined;
  /** Part of a MAC: 1 to 12 lower-case hex digits (the caller checks; the pattern is built from it). */
  macPart?: string | undefined;
  /** Part of a device's allowlist label, any case. Matches too when `macPart` is also given (either matches). */
  labelPart?: string | undefined;
}

/** Where a page of a list sorted by last seen or by MAC starts: strictly after this device in that order. */
export interface SeenKey {
  lastSeenAt: number;
  mac: string;
}

export type KeyedSort = 'seen' | 'mac';

const HEX_PART = /^[0-9a-f]{1,12}$/;

/** `%`, `_` and the escape character itself stand for themselves in a LIKE pattern built from people's text. */
function likeContaining(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function matching(eb: ExpressionBuilder<Tables, 'devices'>, filter: DeviceFilter): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  if (filter.platformId !== undefined) conditions.push(eb('devices.platform_id', '=', filter.platformId));
  if (filter.statuses !== undefined) {
    conditions.push(filter.statuses.length ? eb('devices.status', 'in', filter.statuses) : sql<SqlBool>`1 = 0`);
  }
  if (filter.version === null) conditions.push(eb('devices.reported_version', 'is', null));
  else if (filter.version !== undefined) conditions.push(eb('devices.reported_version', '=', filter.version));
  if (filter.chip !== undefined) conditions.push(eb('devices.family', '=', filter.chip));
  if (filter.seenSince !== undefined) conditions.push(eb('devices.last_seen_at', '>=', filter.seenSince));
  const search: Expression<SqlBool>[] = [];
  if (filter.macPart !== undefined) {
    if (!HEX_PART.test(filter.macPart)) throw new Error('macPart must be 1 to 12 lower-case hex digits');
    search.push(eb('devices.mac', 'like', `%${filter.macPart}%`));
  }
  if (filter.labelPart !== undefined) {
    search.push(
      eb(
        'devices.mac',
        'in',
        eb
          .selectFrom('allowlist')
          .select('allowlist.mac')
          .where(
            sql<SqlBool>`lower(${sql.ref('allowlist.label')}) like ${likeContaining(filter.labelPart)} escape '\\'`,
          ),
      ),
    );
  }
  if (search.length) conditions.push(eb.or(search));
  return eb.and(conditions);
}

/** `(a, b) > (A, B)` (or `<`), spelled out so that both databases use the index on `(a, b)`. */
function beyond(
  eb: ExpressionBuilder<Tables, 'devices'>,
  descending: boolean,
  key: SeenKey,
  sort: KeyedSort,
): Expression<SqlBool> {
  const op = descending ? '<' : '>';
  if (sort === 'mac') return eb('devices.mac', op, key.mac);
  return eb.or([
    eb('devices.last_seen_at', op, key.lastSeenAt),
    eb.and([eb('devices.last_seen_at', '=', key.lastSeenAt), eb('devices.mac', op, key.mac)]),
  ]);
}

export class DeviceListing {
  constructor(private readonly db: Database) {}

  /** Up to `limit` devices after `after` in the order of last seen (then MAC) or of MAC. */
  byKey(filter: DeviceFilter, sort: KeyedSort, descending: boolean, after: SeenKey | undefined, limit: number) {
    const direction = descending ? 'desc' : 'asc';
    let query = this.db
      .selectFrom('devices')
      .selectAll()
      .where((eb) =>
        after ? eb.and([matching(eb, filter), beyond(eb, descending, after, sort)]) : matching(eb, filter),
      );
    if (sort === 'seen') query = query.orderBy('devices.last_seen_at', direction);
    return query.orderBy('devices.mac', direction).limit(limit).execute() as Promise<DeviceRow[]>;
  }

  /** Up to `limit` devices reporting exactly `version` (null: none), after `after` in the order of last seen. */
  ofVersion(
    filter: DeviceFilter,
    version: string | null,
    descending: boolean,
    after: SeenKey | undefined,
    limit: number,
  ): Promise<DeviceRow[]> {
    return this.byKey({ ...filter, version }, 'seen', descending, after, limit);
  }

  /**
   * The distinct version texts devices report (of one platform, if given), and whether some report none. A "loose
   * index scan": one index seek per distinct version instead of reading every row (there are few versions and
   * many devices).
   */
  async versions(platformId: number | undefined): Promise<{ versions: string[]; someWithout: boolean }> {
    const onPlatform = platformId === undefined ? sql`` : sql`and platform_id = ${platformId}`;
    const { rows } = await sql<{ version: string | null }>`
      with recursive seen(version) as (
        select min(reported_version) from devices where reported_version is not null ${onPlatform}
        union all
        select (select min(reported_version) from devices where reported_version > seen.version ${onPlatform})
        from seen where seen.version is not null
      )
      select version from seen where version is not null`.execute(this.db);
    const without = await this.db
      .selectFrom('devices')
      .select('mac')
      .where('reported_version', 'is', null)
      .$if(platformId !== undefined, (q) => q.where('platform_id', '=', platformId!))
      .limit(1)
      .executeTakeFirst();
    return { versions: rows.map((r) => r.version!), someWithout: without !== undefined };
  }

  /**
   * How many devices match, counting at most `cap` of them (a count of a million rows is itself a slow read): the
   * exact number up to `cap`, else `cap + 1` meaning "more than cap".
   */
  async count(filter: DeviceFilter, cap: number): Promise<number> {
    const row = await this.db
      .selectFrom((db) =>
        db
          .selectFrom('devices')
          .select('devices.mac')
          .where((eb) => matching(eb, filter))
          .limit(cap + 1)
          .as('matching'),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
